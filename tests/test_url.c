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
        /* a port, then an '@' in the path or the query: no userinfo */
        {"http://example.com:8080/users/@alice/feed",
         "http://example.com:8080/users/@alice/feed"},
        {"https://hooks.example:8443/hook?to=ops@evil.example",
         "https://hooks.example:8443/hook?to=ops@evil.example"},
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
test_redact_hides_secret_query_parameters(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"http://host/feed?token=T0K", "http://host/feed?token=***"},
        {"http://u:pw@host/f?a=1&Private_Token=glpat-x&page=2",
         "http://u:***@host/f?a=1&Private_Token=***&page=2"},
        {"https://h/?access_token=a&api_key=b&apikey=c&key=d&auth=e",
         "https://h/?access_token=***&api_key=***&apikey=***&key=***&auth=***"},
        {"https://h/?password=a;passwd=b;secret=c&sig=d&signature=e",
         "https://h/?password=***;passwd=***;secret=***&sig=***&signature=***"},
        {"https://h/?client_secret=a&TOKEN=b", "https://h/?client_secret=***&TOKEN=***"},
        /* spellings of the same names */
        {"https://h/?accessToken=a&X-Amz-Security-Token=b&X-Amz-Signature=c",
         "https://h/?accessToken=***&X-Amz-Security-Token=***&X-Amz-Signature=***"},
        {"https://h/?x-api-key=a&feed_password=b",
         "https://h/?x-api-key=***&feed_password=***"},
        /* a value with '=' or '?' in it is hidden whole */
        {"https://h/?sig=a=b?c&x=1", "https://h/?sig=***&x=1"},
        /* the fragment too (OAuth's implicit grant) */
        {"https://h/f?a=1#access_token=xyz&state=s",
         "https://h/f?a=1#access_token=***&state=s"},
        {"https://h/f#token=xyz", "https://h/f#token=***"},
        /* names that only look alike, empty values, no value: kept */
        {"https://h/?keyword=a&monkey=b&tokens=c&authors=d",
         "https://h/?keyword=a&monkey=b&tokens=c&authors=d"},
        {"https://h/?token=&key", "https://h/?token=&key"},
        {"https://h/token=x/feed", "https://h/token=x/feed"},
        {"https://h/f?", "https://h/f?"},
        {"https://h/f#", "https://h/f#"},
        {"/srv/feed.xml?token=a", "/srv/feed.xml?token=***"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_redact(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void
test_origin_shown_keeps_scheme_and_host(void **state)
{
    UNUSED(state);
    static const char *const cases[][2] = {
        {"https://hooks.slack.com/services/T000/B000/XXXX",
         "https://hooks.slack.com/…"},
        {"https://discord.com/api/webhooks/1/abc ", "https://discord.com/…"},
        {"https://user:pw@h:8443/x?y", "https://h:8443/…"},
        {"https://h?token=x", "https://h/…"},
        {"https://h/", "https://h/"},
        {"https://h", "https://h"},
        {"http://u:se/cret@h/x", "http://h/…"},
        {"https://hooks.example:8443/hook?to=ops@evil.example",
         "https://hooks.example:8443/…"},
        {"hooks.slack.com/services/T/B/X", "hooks.slack.com/…"},
        {"TOKEN@hooks.slack.com/x", "hooks.slack.com/…"},
        {"", ""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_origin_shown(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void
test_follow_resolves_as_libcurl_does(void **state)
{
    UNUSED(state);
    static const char *const cases[][3] = {
        {"http://u:p@h:81/a/b", "/c", "http://u:p@h:81/c"},
        {"http://u:p@h:81/a/b", "c d", "http://u:p@h:81/a/c%20d"},
        {"http://u:p@h:81/a/b", "?q=1", "http://u:p@h:81/a/b?q=1"},
        {"http://u:p@h:81/a/b", "//other/z", "http://other/z"},
        {"http://u:p@h:81/a/b", "https://other/x y", "https://other/x%20y"},
        {"http://h/", "file:///etc/passwd", "file:///etc/passwd"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_follow(cases[i][0], cases[i][1]);
        assert_non_null(got);
        assert_string_equal(got, cases[i][2]);
        free(got);
    }
    assert_null(url_follow("http://h/", ""));
}

static void
test_same_origin_is_scheme_host_and_port(void **state)
{
    UNUSED(state);
    assert_true(url_same_origin("http://h/a", "http://h:80/b?c"));
    assert_true(url_same_origin("https://u:p@H.example/a", "https://h.EXAMPLE:443/"));
    assert_true(url_same_origin("http://[::1]:81/", "http://[::1]:81/x"));
    assert_false(url_same_origin("http://h/", "https://h/"));
    assert_false(url_same_origin("http://h/", "http://h:81/"));
    assert_false(url_same_origin("http://127.0.0.1/", "http://localhost/"));
    assert_false(url_same_origin("http://h.example/", "http://h.example.evil/"));
    assert_false(url_same_origin("http://h/", "not a url"));
}

static void
test_lend_userinfo_only_to_the_same_origin(void **state)
{
    UNUSED(state);
    static const char *const cases[][3] = {
        {"http://h:81/b", "http://u:p@h:81/a", "http://u:p@h:81/b"},
        {"http://TOKEN@h:81/b", "http://u:p@h:81/a", "http://TOKEN@h:81/b"},
        {"http://other:81/b", "http://u:p@h:81/a", "http://other:81/b"},
        {"https://h:81/b", "http://u:p@h:81/a", "https://h:81/b"},
        {"http://h:82/b", "http://u:p@h:81/a", "http://h:82/b"},
        {"http://h:81/b", "http://h:81/a", "http://h:81/b"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char *got = url_lend_userinfo(cases[i][0], cases[i][1]);
        assert_string_equal(got, cases[i][2]);
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
        cmocka_unit_test(test_redact_hides_secret_query_parameters),
        cmocka_unit_test(test_origin_shown_keeps_scheme_and_host),
        cmocka_unit_test(test_follow_resolves_as_libcurl_does),
        cmocka_unit_test(test_same_origin_is_scheme_host_and_port),
        cmocka_unit_test(test_lend_userinfo_only_to_the_same_origin),
        cmocka_unit_test(test_strip_userinfo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
