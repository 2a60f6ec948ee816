/* url.c — see url.h. */
#include "url.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "utf8.h"

bool
url_is_absolute(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return false;
    for (s++; *s; s++) {
        char c = *s;
        if (c == ':') return true;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
            return false;
    }
    return false;
}

bool
url_is_http(const char *s)
{
    return ascii_strncasecmp(s, "http://", 7) == 0 ||
           ascii_strncasecmp(s, "https://", 8) == 0;
}

const char *
url_resolve(arena *a, const char *base, const char *ref)
{
    if (url_is_absolute(ref) || !base || !url_is_absolute(base)) return ref;
    CURLU *u = curl_url();
    if (!u) return ref;
    const char *result = ref;
    char *out = NULL;
    char *joined = NULL;
    if (ref[0] == '#') {
        /* A fragment alone keeps the whole base but its fragment (RFC 3986
         * 5.2.2); libcurl 7.88 drops the base's last path segment. */
        size_t keep = strcspn(base, "#");
        joined = xmalloc(keep + strlen(ref) + 1);
        memcpy(joined, base, keep);
        strcpy(joined + keep, ref);
        ref = joined;
    }
    /* Setting a relative URL on a handle that holds the base resolves it. */
    if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref,
                     CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        result = arena_strdup(a, out);
    else if (joined)
        result = arena_strdup(a, joined);
    free(joined);
    curl_free(out);
    curl_url_cleanup(u);
    return result;
}

/* The authority of an absolute URL: after "scheme://", up to the path,
 * query or fragment; its userinfo ends at its last '@' (a password may
 * hold a raw '@', a host never does). False when url has no authority. */
static bool
authority(const char *url, const char **auth, const char **host,
          const char **end)
{
    if (!url_is_absolute(url)) return false;
    const char *a = strchr(url, ':') + 1;
    if (strncmp(a, "//", 2) != 0) return false;
    a += 2;
    *auth = *host = a;
    *end = a + strcspn(a, "/?#");
    for (const char *p = a; p < *end; p++)
        if (*p == '@') *host = p + 1;
    return true;
}

/* Where the host of an absolute URL is: after any userinfo, up to the
 * port or the path. */
static bool
host_span(const char *url, size_t *start, size_t *end)
{
    const char *auth, *host, *aend;
    if (!authority(url, &auth, &host, &aend)) return false;
    const char *hend = host;
    if (*host == '[') {
        const char *rb = memchr(host, ']', (size_t)(aend - host));
        hend = rb ? rb + 1 : aend;
    } else {
        while (hend < aend && *hend != ':')
            hend++;
    }
    *start = (size_t)(host - url);
    *end = (size_t)(hend - url);
    return true;
}

/* libcurl converts with libidn2's idn2_lookup_ul, which reads the host in
 * the locale's character set: under the "C" locale a daemon starts in,
 * every non-ASCII name fails ("A memory function failed", curl issue
 * 10984). A UTF-8 locale for this thread, for this call only, leaves the
 * rest of the process as it was. */
static char *
punycode(const char *host, char *why, size_t whylen)
{
#ifdef CURLU_PUNYCODE
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8) {
        snprintf(why, whylen,
                 "no C.UTF-8 locale to convert the host name "
                 "with: write it in punycode (xn--...)");
        return NULL;
    }
    locale_t was = uselocale(utf8);
    char *out = NULL, *got = NULL;
    CURLU *u = curl_url();
    buf probe = {0};
    buf_printf(&probe, "http://%s/", host);
    CURLUcode rc =
        u ? curl_url_set(u, CURLUPART_URL, probe.p, 0) : CURLUE_OUT_OF_MEMORY;
    if (rc == CURLUE_OK)
        rc = curl_url_get(u, CURLUPART_HOST, &got, CURLU_PUNYCODE);
    if (rc == CURLUE_OK && got && ascii_only(got, strlen(got)))
        out = xstrdup(got);
    else if (rc == CURLUE_LACKS_IDN)
        snprintf(why, whylen,
                 "this libcurl cannot convert international "
                 "domain names: write the host in punycode (xn--...)");
    else
        snprintf(why, whylen,
                 "the host is not a valid international domain "
                 "name (in punycode, it starts with xn--)");
    curl_free(got);
    buf_free(&probe);
    curl_url_cleanup(u);
    uselocale(was);
    freelocale(utf8);
    return out;
#else
    UNUSED(host);
    snprintf(why, whylen,
             "this libcurl (before 7.88) cannot convert "
             "international domain names: write the host in "
             "punycode (xn--...)");
    return NULL;
#endif
}

char *
url_ascii_host(const char *url, char *why, size_t whylen)
{
    size_t hs, he;
    if (!host_span(url, &hs, &he) || ascii_only(url + hs, he - hs))
        return xstrdup(url);
    char *host = xstrndup(url + hs, he - hs);
    char *ascii = punycode(host, why, whylen);
    free(host);
    if (!ascii) return NULL;
    buf b = {0};
    buf_add(&b, url, hs);
    buf_adds(&b, ascii);
    buf_adds(&b, url + he);
    free(ascii);
    return buf_detach(&b);
}

/* A password holding '/', '?' or '#' ("http://u:se/cret@host/") ends
 * the authority early, so it has no userinfo to redact: the URL is
 * invalid, but an error message would show it. For display, "user:" (no
 * '/', '?' or '#' in the user) followed somewhere by an '@' is taken for
 * a userinfo up to the last '@'. Returns the position after that '@', or
 * auth. */
static const char *
loose_userinfo_end(const char *auth)
{
    size_t user = strcspn(auth, ":/?#");
    if (auth[user] != ':') return auth;
    /* "host:8080/" is a port, whatever '@' the path or query holds
     * ("/users/@alice", "?to=ops@example.org") */
    size_t digits = strspn(auth + user + 1, "0123456789");
    char after = auth[user + 1 + digits];
    if (after == '\0' || after == '/' || after == '?' || after == '#')
        return auth;
    const char *at = strrchr(auth, '@');
    return at && at > auth + user ? at + 1 : auth;
}

/* url into b, its userinfo redacted. */
static void
redact_userinfo(buf *b, const char *url)
{
    const char *auth, *host, *end;
    if (!authority(url, &auth, &host, &end)) {
        buf_adds(b, url);
        return;
    }
    if (host == auth) host = loose_userinfo_end(auth);
    if (host == auth) {
        buf_adds(b, url);
        return;
    }
    const char *colon = memchr(auth, ':', (size_t)(host - 1 - auth));
    /* "user:" is kept: it tells two accounts apart. A userinfo without a
     * colon is often a token by itself ("https://TOKEN@host/"). */
    buf_add(b, url, (size_t)((colon ? colon + 1 : auth) - url));
    buf_adds(b, "***");
    buf_adds(b, host - 1); /* from the '@' on */
}

/* Query parameters that carry a secret by name. The list is the names
 * services document for it (GitLab's private_token, OAuth's access_token
 * and client_secret, signed URLs' sig ...); the endings catch their
 * spellings (accessToken, X-Amz-Security-Token, X-Amz-Signature, feed_password).
 * Hiding a value that was no secret costs only some detail in a message. */
static bool
secret_param(const char *name, size_t n)
{
    static const char *const names[] = {
        "token",   "access_token", "api_key",       "apikey",
        "key",     "auth",         "password",      "passwd",
        "secret",  "sig",          "signature",     "private_token",
        "client_secret",
    };
    static const char *const endings[] = {"token", "secret", "signature",
                                          "password", "apikey", "api_key",
                                          "api-key"};
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strlen(names[i]) == n && !ascii_strncasecmp(name, names[i], n))
            return true;
    for (size_t i = 0; i < ARRAY_LEN(endings); i++) {
        size_t k = strlen(endings[i]);
        if (n >= k && !ascii_strncasecmp(name + n - k, endings[i], k))
            return true;
    }
    return false;
}

/* One "name=value" of a query or fragment into b, its value "***" if the
 * name says it is a secret. */
static void
redact_param(buf *b, const char *p, size_t n)
{
    const char *eq = memchr(p, '=', n);
    if (eq && eq + 1 < p + n && secret_param(p, (size_t)(eq - p))) {
        buf_add(b, p, (size_t)(eq + 1 - p));
        buf_adds(b, "***");
    } else {
        buf_add(b, p, n);
    }
}

/* s into b, the secret parameters of its query and of its fragment
 * ("#access_token=...", OAuth's implicit grant) redacted. Parameters are
 * separated by '&' (or ';', the old CGI way). */
static void
redact_params(buf *b, const char *s)
{
    size_t n = strcspn(s, "?#");
    buf_add(b, s, n);
    s += n;
    bool in_fragment = false;
    while (*s) {
        if (*s == '#') in_fragment = true;
        buf_addc(b, *s++); /* the '?', '#', '&' or ';' before a parameter */
        n = strcspn(s, in_fragment ? "&;" : "&;#");
        redact_param(b, s, n);
        s += n;
    }
}

char *
url_redact(const char *url)
{
    buf shown = {0}, b = {0};
    redact_userinfo(&shown, url);
    redact_params(&b, shown.p ? shown.p : "");
    buf_free(&shown);
    return buf_detach(&b);
}

char *
url_redact_in(arena *a, const char *url)
{
    if (!url) return NULL;
    char *shown = url_redact(url);
    char *kept = arena_strdup(a, shown);
    free(shown);
    return kept;
}

char *
url_strip_userinfo(const char *url)
{
    const char *auth, *host, *end;
    if (!authority(url, &auth, &host, &end) || host == auth)
        return xstrdup(url);
    buf b = {0};
    buf_add(&b, url, (size_t)(auth - url));
    buf_adds(&b, host);
    return buf_detach(&b);
}

/* ---- redirects ------------------------------------------------------------ */

char *
url_follow(const char *base, const char *location)
{
    if (!*location) return NULL;
    CURLU *u = curl_url();
    char *got = NULL, *out = NULL;
    /* The flags libcurl's own redirect following uses: spaces and
     * non-ASCII bytes of a sloppy Location are percent-encoded. Any
     * scheme is read, so that the caller can refuse it by name. */
    if (u &&
        curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) ==
            CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, location,
                     CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE |
                         CURLU_ALLOW_SPACE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
        out = xstrdup(got);
    curl_free(got);
    curl_url_cleanup(u);
    return out;
}

/* The origin of an absolute URL as libcurl reads it: scheme, host and
 * port (the scheme's default when none is written). */
typedef struct origin {
    char *scheme, *host, *port;
} origin;

static bool
origin_of(const char *url, origin *o)
{
    memset(o, 0, sizeof *o);
    CURLU *u = curl_url();
    bool ok = u &&
              curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
                  CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) ==
                  CURLUE_OK;
    curl_url_cleanup(u);
    return ok;
}

static void
origin_free(origin *o)
{
    curl_free(o->scheme);
    curl_free(o->host);
    curl_free(o->port);
}

bool
url_same_origin(const char *a, const char *b)
{
    origin oa, ob;
    bool same = origin_of(a, &oa) && origin_of(b, &ob) &&
                !ascii_strcasecmp(oa.scheme, ob.scheme) &&
                !ascii_strcasecmp(oa.host, ob.host) && !strcmp(oa.port, ob.port);
    origin_free(&oa);
    origin_free(&ob);
    return same;
}

char *
url_lend_userinfo(const char *to, const char *from)
{
    const char *tauth, *thost, *tend, *fauth, *fhost, *fend;
    if (!authority(to, &tauth, &thost, &tend) || thost != tauth ||
        !authority(from, &fauth, &fhost, &fend) || fhost == fauth ||
        !url_same_origin(to, from))
        return xstrdup(to);
    buf b = {0};
    buf_add(&b, to, (size_t)(tauth - to));
    buf_add(&b, fauth, (size_t)(fhost - fauth)); /* "user:password@" */
    buf_adds(&b, tauth);
    return buf_detach(&b);
}

/* ---- webhook URLs --------------------------------------------------------- */

char *
url_origin_shown(const char *url)
{
    const char *auth, *host, *end;
    buf b = {0};
    if (authority(url, &auth, &host, &end)) {
        if (host == auth) host = loose_userinfo_end(auth);
        buf_add(&b, url, (size_t)(auth - url)); /* "scheme://" */
        end = host + strcspn(host, "/?#");
        buf_add(&b, host, (size_t)(end - host));
    } else {
        /* not even a URL: its first segment ("hooks.slack.com"), from
         * after a last '@' ("TOKEN@hooks.slack.com") */
        end = url + strcspn(url, "/?#");
        host = url;
        for (const char *p = url; p < end; p++)
            if (*p == '@') host = p + 1;
        buf_add(&b, host, (size_t)(end - host));
    }
    if (*end && strcmp(end, "/")) buf_adds(&b, "/…");
    else buf_adds(&b, end);
    return buf_detach(&b);
}
