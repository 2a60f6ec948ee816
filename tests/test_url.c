/* test_url.c — host names fit for the wire; credentials kept off it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "url.h"

static void
test_ascii_host_converts_international_names(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"http://bücher.example/x", "http://xn--bcher-kva.example/x"},
        {"https://BÜCHER.example:8443/a?q=é#f",
         "https://xn--bcher-kva.example:8443/a?q=é#f"},
        {"http://user:pä@ss@bücher.example/",
         "http://user:pä@ss@xn--bcher-kva.example/"},
        {"http://☃.example", "http://xn--n3h.example"},
        {"http://räksmörgås.se/path/index.html",
         "http://xn--rksmrgs-5wao1o.se/path/index.html"},
    };
    char why[200];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_ascii_host(cases[i][0], why, sizeof why);
        if (!got) fail_msg("%s: %s", cases[i][0], why);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void
test_ascii_host_leaves_everything_else_alone(void **state)
{
    UNUSED(state);
    static const char *const same[] = {
        "http://xn--bcher-kva.example/x",
        "http://127.0.0.1:8080/é?ü=1",
        "http://[::1]:80/ü",
        "HTTP://Example.ORG",
        "not a url ü",
        "mailto:ü@bücher.example",
        "",
    };
    char why[200];
    for (size_t i = 0; i < ARRAY_LEN(same); i++) {
        char *got = url_ascii_host(same[i], why, sizeof why);
        if (!got) fail_msg("%s: %s", same[i], why);
        assert_string_equal(got, same[i]);
        free(got);
    }
}

static void
test_ascii_host_refuses_what_is_not_a_name(void **state)
{
    UNUSED(state);
    char why[200] = "";
    assert_null(url_ascii_host("http://b\xff\xfe"
                               "cher.example/",
                               why, sizeof why));
    assert_non_null(strstr(why, "not a valid international domain name"));
    assert_non_null(strstr(why, "xn--"));
}

static void
test_redact_hides_the_password_only(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"http://user:s3cr3t@127.0.0.1:8080/f?a=1#x",
         "http://user:***@127.0.0.1:8080/f?a=1#x"},
        {"https://u:p%40ss@host/", "https://u:***@host/"},
        {"https://u:p@ss@host/", "https://u:***@host/"}, /* raw '@' */
        {"http://u:a:b@host", "http://u:***@host"},
        {"http://u:@host/", "http://u:***@host/"},
        {"http://TOKEN@host/x", "http://***@host/x"},
        {"http://@host/", "http://***@host/"},
        {"http://host/a@b?c=d@e", "http://host/a@b?c=d@e"}, /* not userinfo */
        {"https://medium.com/@user/feed", "https://medium.com/@user/feed"},
        /* a password that ends the authority early: invalid, still hidden */
        {"http://u:se/cret@host/x", "http://u:***@host/x"},
        {"http://u:se#cret@host/x", "http://u:***@host/x"},
        {"http://u:se?cret@host/x", "http://u:***@host/x"},
        {"http://host:80/", "http://host:80/"},
        {"file:///srv/a@b.xml", "file:///srv/a@b.xml"},
        {"/srv/feed.xml", "/srv/feed.xml"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_redact(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void
test_strip_userinfo(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"http://user:s3cr3t@127.0.0.1:8080/f?a=1",
         "http://127.0.0.1:8080/f?a=1"},
        {"https://TOKEN@host", "https://host"},
        {"http://host/a@b", "http://host/a@b"},
        {"mailto:a@b", "mailto:a@b"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_strip_userinfo(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ascii_host_converts_international_names),
        cmocka_unit_test(test_ascii_host_leaves_everything_else_alone),
        cmocka_unit_test(test_ascii_host_refuses_what_is_not_a_name),
        cmocka_unit_test(test_redact_hides_the_password_only),
        cmocka_unit_test(test_strip_userinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
