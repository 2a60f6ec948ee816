/* netguard.c — see netguard.h. */
#include "netguard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* One IPv4 range per row, checked in order; the first match wins. */
static const struct v4range {
    uint32_t net;
    unsigned bits;
    net_class cls;
} v4ranges[] = {
    {0x00000000u, 8, NET_UNSPECIFIED}, /* 0.0.0.0/8 "this network" */
    {0x0A000000u, 8, NET_PRIVATE},     /* 10.0.0.0/8 */
    {0x64400000u, 10, NET_CGNAT},      /* 100.64.0.0/10 */
    {0x7F000000u, 8, NET_LOOPBACK},    /* 127.0.0.0/8 */
    {0xA9FE0000u, 16, NET_LINK_LOCAL}, /* 169.254.0.0/16, cloud metadata */
    {0xAC100000u, 12, NET_PRIVATE},    /* 172.16.0.0/12 */
    {0xC0000000u, 24, NET_RESERVED},   /* 192.0.0.0/24 IETF assignments */
    {0xC0000200u, 24, NET_RESERVED},   /* 192.0.2.0/24 TEST-NET-1 */
    {0xC0586300u, 24, NET_RESERVED},   /* 192.88.99.0/24 6to4 relays */
    {0xC0A80000u, 16, NET_PRIVATE},    /* 192.168.0.0/16 */
    {0xC6120000u, 15, NET_RESERVED},   /* 198.18.0.0/15 benchmarking */
    {0xC6336400u, 24, NET_RESERVED},   /* 198.51.100.0/24 TEST-NET-2 */
    {0xCB007100u, 24, NET_RESERVED},   /* 203.0.113.0/24 TEST-NET-3 */
    {0xE0000000u, 4, NET_MULTICAST},   /* 224.0.0.0/4 */
    {0xFFFFFFFFu, 32, NET_BROADCAST},  /* 255.255.255.255 */
    {0xF0000000u, 4, NET_RESERVED},    /* 240.0.0.0/4 */
};

static net_class
classify_v4(const unsigned char *a)
{
    uint32_t ip = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
                  (uint32_t)a[2] << 8 | (uint32_t)a[3];
    for (size_t i = 0; i < ARRAY_LEN(v4ranges); i++) {
        uint32_t mask = 0xFFFFFFFFu << (32 - v4ranges[i].bits);
        if ((ip & mask) == v4ranges[i].net) return v4ranges[i].cls;
    }
    return NET_PUBLIC;
}

static bool
all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

/* The embedded IPv4 forms decide by the address they carry: a NAT64 or
 * 6to4 gateway would forward to it. */
static net_class
embedded(const unsigned char *v4, net_via how, net_via *via)
{
    net_class c = classify_v4(v4);
    if (via && c != NET_PUBLIC) *via = how;
    return c;
}

static net_class
classify_v6(const unsigned char *a, net_via *via)
{
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const unsigned char nat64_local[6] = {0x00, 0x64, 0xff,
                                                 0x9b, 0x00, 0x01};
    static const unsigned char discard[8] = {0x01, 0x00};
    static const unsigned char doc[4] = {0x20, 0x01, 0x0d, 0xb8};

    if (all_zero(a, 8)) {
        /* ::/64 holds ::, ::1, ::ffff:a.b.c.d (mapped) and
         * ::ffff:0:a.b.c.d (translated); the rest is the deprecated
         * IPv4-compatible form, never right for a feed. */
        if (all_zero(a + 8, 8)) return NET_UNSPECIFIED;
        if (all_zero(a + 8, 7) && a[15] == 1) return NET_LOOPBACK;
        if (a[8] == 0 && a[9] == 0 && a[10] == 0xff && a[11] == 0xff)
            return embedded(a + 12, NET_VIA_MAPPED, via);
        if (a[8] == 0xff && a[9] == 0xff && a[10] == 0 && a[11] == 0)
            return embedded(a + 12, NET_VIA_MAPPED, via);
        return NET_RESERVED;
    }
    if (!memcmp(a, nat64, 12)) return embedded(a + 12, NET_VIA_NAT64, via);
    if (!memcmp(a, nat64_local, 6)) return NET_PRIVATE; /* 64:ff9b:1::/48 */
    if (!memcmp(a, discard, 8)) return NET_RESERVED;    /* 100::/64 */
    if (!memcmp(a, doc, 4)) return NET_RESERVED;        /* 2001:db8::/32 */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) {
        /* Teredo 2001::/32: the client's IPv4 is the last 32 bits, each
         * bit inverted. */
        unsigned char v4[4];
        for (int i = 0; i < 4; i++)
            v4[i] = (unsigned char)~a[12 + i];
        return embedded(v4, NET_VIA_TEREDO, via);
    }
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 2002::/16 */
        return embedded(a + 2, NET_VIA_6TO4, via);
    if ((a[0] & 0xfe) == 0xfc) return NET_PRIVATE; /* fc00::/7 */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return NET_LINK_LOCAL;
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return NET_PRIVATE; /* fec0 */
    if (a[0] == 0xff) return NET_MULTICAST;
    if (a[0] == 0x3f && a[1] == 0xff && (a[2] & 0xf0) == 0) /* 3fff::/20 */
        return NET_RESERVED;
    /* Only 2000::/3 is allocated as global unicast. */
    if ((a[0] & 0xe0) != 0x20) return NET_RESERVED;
    return NET_PUBLIC;
}

net_class
netguard_classify(const unsigned char *addr, size_t len, net_via *via)
{
    if (via) *via = NET_VIA_NONE;
    if (len == 4) return classify_v4(addr);
    if (len == 16) return classify_v6(addr, via);
    return NET_RESERVED;
}

net_class
netguard_classify_sa(const struct sockaddr *sa, net_via *via)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        return netguard_classify((const unsigned char *)&in->sin_addr, 4, via);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        return netguard_classify((const unsigned char *)&in6->sin6_addr, 16,
                                 via);
    }
    if (via) *via = NET_VIA_NONE;
    return NET_RESERVED;
}

int
netguard_classify_str(const char *text, net_via *via)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, text, a) == 1) return netguard_classify(a, 4, via);
    if (inet_pton(AF_INET6, text, a) == 1) return netguard_classify(a, 16, via);
    return -1;
}

const char *
netguard_class_name(net_class c)
{
    switch (c) {
    case NET_PUBLIC:
        return "public";
    case NET_LOOPBACK:
        return "loopback";
    case NET_PRIVATE:
        return "private";
    case NET_LINK_LOCAL:
        return "link-local";
    case NET_CGNAT:
        return "CGNAT";
    case NET_MULTICAST:
        return "multicast";
    case NET_UNSPECIFIED:
        return "unspecified";
    case NET_BROADCAST:
        return "broadcast";
    case NET_RESERVED:
        return "reserved";
    }
    return "reserved";
}

static const char *
via_name(net_via v)
{
    switch (v) {
    case NET_VIA_MAPPED:
        return "IPv4-mapped ";
    case NET_VIA_NAT64:
        return "NAT64 ";
    case NET_VIA_6TO4:
        return "6to4 ";
    case NET_VIA_TEREDO:
        return "Teredo ";
    case NET_VIA_NONE:
        break;
    }
    return "";
}

static curl_socket_t
opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    netguard *g = clientp;
    UNUSED(purpose);
    if (!g->allow_private) {
        net_via via;
        net_class c = netguard_classify_sa(&a->addr, &via);
        if (c != NET_PUBLIC) {
            if (!g->refused[0]) {
                char host[INET6_ADDRSTRLEN] = "?";
                const void *raw = NULL;
                if (a->family == AF_INET)
                    raw = &((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
                else if (a->family == AF_INET6)
                    raw = &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr;
                if (raw) inet_ntop(a->family, raw, host, sizeof host);
                const char *v = via_name(via);
                const char *n = netguard_class_name(c);
                char first = *v ? v[0] : n[0];
                const char *art = strchr("aeiouAEIOU", first) ? "an" : "a";
                snprintf(g->refused, sizeof g->refused,
                         "refused: %s is %s %s%s address "
                         "(allow_private_networks is off)",
                         host, art, v, n);
            }
            /* curl then fails this address (and tries the next one). */
            return CURL_SOCKET_BAD;
        }
    }
    /* Close-on-exec: the rules worker is a child process and must not
     * inherit feed connections. */
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

void
netguard_install(CURL *easy, netguard *g)
{
    g->refused[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, opensocket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, g);
}
