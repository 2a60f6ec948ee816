/* test_netguard.c — the address classifier behind the SSRF guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "netguard.h"
#include "util.h"

static const struct {
    const char *addr;
    net_class cls;
    net_via via;
} cases[] = {
    /* IPv4 */
    {"8.8.8.8", NET_PUBLIC, NET_VIA_NONE},
    {"1.1.1.1", NET_PUBLIC, NET_VIA_NONE},
    {"93.184.216.34", NET_PUBLIC, NET_VIA_NONE},
    {"127.0.0.1", NET_LOOPBACK, NET_VIA_NONE},
    {"127.255.255.254", NET_LOOPBACK, NET_VIA_NONE},
    {"10.0.0.1", NET_PRIVATE, NET_VIA_NONE},
    {"10.255.255.255", NET_PRIVATE, NET_VIA_NONE},
    {"172.16.0.1", NET_PRIVATE, NET_VIA_NONE},
    {"172.31.255.255", NET_PRIVATE, NET_VIA_NONE},
    {"172.15.255.255", NET_PUBLIC, NET_VIA_NONE}, /* just below /12 */
    {"172.32.0.0", NET_PUBLIC, NET_VIA_NONE},     /* just above */
    {"192.168.1.1", NET_PRIVATE, NET_VIA_NONE},
    {"192.169.0.1", NET_PUBLIC, NET_VIA_NONE},
    {"169.254.169.254", NET_LINK_LOCAL, NET_VIA_NONE},
    {"100.64.0.1", NET_CGNAT, NET_VIA_NONE},
    {"100.127.255.255", NET_CGNAT, NET_VIA_NONE},
    {"100.63.255.255", NET_PUBLIC, NET_VIA_NONE},
    {"100.128.0.0", NET_PUBLIC, NET_VIA_NONE},
    {"224.0.0.1", NET_MULTICAST, NET_VIA_NONE},
    {"239.255.255.250", NET_MULTICAST, NET_VIA_NONE},
    {"0.0.0.0", NET_UNSPECIFIED, NET_VIA_NONE},
    {"0.1.2.3", NET_UNSPECIFIED, NET_VIA_NONE},
    {"255.255.255.255", NET_BROADCAST, NET_VIA_NONE},
    {"240.0.0.1", NET_RESERVED, NET_VIA_NONE},
    {"255.255.255.254", NET_RESERVED, NET_VIA_NONE},
    {"192.0.2.10", NET_RESERVED, NET_VIA_NONE},
    {"198.18.0.1", NET_RESERVED, NET_VIA_NONE},
    {"198.51.100.7", NET_RESERVED, NET_VIA_NONE},
    {"203.0.113.9", NET_RESERVED, NET_VIA_NONE},
    {"192.0.0.170", NET_RESERVED, NET_VIA_NONE},
    /* IPv6 */
    {"2606:4700:4700::1111", NET_PUBLIC, NET_VIA_NONE},
    {"2a00:1450:4007:80e::200e", NET_PUBLIC, NET_VIA_NONE},
    {"::1", NET_LOOPBACK, NET_VIA_NONE},
    {"::", NET_UNSPECIFIED, NET_VIA_NONE},
    {"fc00::1", NET_PRIVATE, NET_VIA_NONE},
    {"fd12:3456:789a::1", NET_PRIVATE, NET_VIA_NONE},
    {"fec0::1", NET_PRIVATE, NET_VIA_NONE},
    {"fe80::1", NET_LINK_LOCAL, NET_VIA_NONE},
    {"febf::1", NET_LINK_LOCAL, NET_VIA_NONE},
    {"ff02::1", NET_MULTICAST, NET_VIA_NONE},
    {"ff05::1:3", NET_MULTICAST, NET_VIA_NONE},
    {"2001:db8::1", NET_RESERVED, NET_VIA_NONE},
    {"100::1", NET_RESERVED, NET_VIA_NONE},
    {"::7f00:1", NET_RESERVED, NET_VIA_NONE}, /* IPv4-compatible */
    {"4000::1", NET_RESERVED, NET_VIA_NONE},  /* outside 2000::/3 */
    {"3fff::1", NET_RESERVED, NET_VIA_NONE},
    /* IPv4 inside IPv6 */
    {"::ffff:127.0.0.1", NET_LOOPBACK, NET_VIA_MAPPED},
    {"::ffff:10.1.2.3", NET_PRIVATE, NET_VIA_MAPPED},
    {"::ffff:169.254.169.254", NET_LINK_LOCAL, NET_VIA_MAPPED},
    {"::ffff:8.8.8.8", NET_PUBLIC, NET_VIA_NONE},
    {"::ffff:0:127.0.0.1", NET_LOOPBACK, NET_VIA_MAPPED},
    {"64:ff9b::127.0.0.1", NET_LOOPBACK, NET_VIA_NAT64},
    {"64:ff9b::192.168.0.1", NET_PRIVATE, NET_VIA_NAT64},
    {"64:ff9b::8.8.4.4", NET_PUBLIC, NET_VIA_NONE},
    {"64:ff9b:1::1", NET_PRIVATE, NET_VIA_NONE},
    {"2002:7f00:1::1", NET_LOOPBACK, NET_VIA_6TO4},
    {"2002:a9fe:a9fe::", NET_LINK_LOCAL, NET_VIA_6TO4},
    {"2002:808:808::1", NET_PUBLIC, NET_VIA_NONE},
    /* Teredo: client 127.0.0.1 inverted is 80ff:fffe */
    {"2001:0:4136:e378:8000:63bf:80ff:fffe", NET_LOOPBACK, NET_VIA_TEREDO},
    {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", NET_PUBLIC, NET_VIA_NONE},
};

static void
test_classifier_table(void **state)
{
    UNUSED(state);
    assert_true(ARRAY_LEN(cases) >= 30);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        net_via via = NET_VIA_NONE;
        int c = netguard_classify_str(cases[i].addr, &via);
        if (c != (int)cases[i].cls || via != cases[i].via)
            fail_msg("%s: got %s via %d, want %s via %d", cases[i].addr,
                     c < 0 ? "error" : netguard_class_name((net_class)c),
                     (int)via, netguard_class_name(cases[i].cls),
                     (int)cases[i].via);
    }
}

static void
test_not_an_address(void **state)
{
    UNUSED(state);
    assert_int_equal(netguard_classify_str("localhost", NULL), -1);
    assert_int_equal(netguard_classify_str("", NULL), -1);
    assert_int_equal(netguard_classify_str("1.2.3", NULL), -1);
}

static void
test_sockaddr_forms(void **state)
{
    UNUSED(state);
    struct sockaddr_in in = {.sin_family = AF_INET};
    inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
    assert_int_equal(netguard_classify_sa((struct sockaddr *)&in, NULL),
                     NET_LINK_LOCAL);
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::ffff:192.168.1.1", &in6.sin6_addr);
    net_via via;
    assert_int_equal(netguard_classify_sa((struct sockaddr *)&in6, &via),
                     NET_PRIVATE);
    assert_int_equal(via, NET_VIA_MAPPED);
    struct sockaddr other = {.sa_family = AF_UNIX};
    assert_int_equal(netguard_classify_sa(&other, NULL), NET_RESERVED);
    /* Odd lengths are never trusted. */
    unsigned char raw[5] = {8, 8, 8, 8, 8};
    assert_int_equal(netguard_classify(raw, 5, NULL), NET_RESERVED);
}

static void
test_class_names(void **state)
{
    UNUSED(state);
    assert_string_equal(netguard_class_name(NET_LOOPBACK), "loopback");
    assert_string_equal(netguard_class_name(NET_LINK_LOCAL), "link-local");
    assert_string_equal(netguard_class_name(NET_CGNAT), "CGNAT");
    assert_string_equal(netguard_class_name(NET_PUBLIC), "public");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier_table),
        cmocka_unit_test(test_not_an_address),
        cmocka_unit_test(test_sockaddr_forms),
        cmocka_unit_test(test_class_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
