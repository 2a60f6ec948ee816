/* fetch.c — see fetch.h. */
#include "fetch.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "netguard.h"
#include "url.h"

#define MAX_HOPS (FETCH_MAX_REDIRECTS + 1) /* URLs asked, for loop detection */
#define MAX_LOCATION 8192  /* a longer Location is no redirect */
#define MAX_VALIDATOR 1024 /* longer ETag/Last-Modified are not kept */
#define BODY_RESERVE_MAX (4u << 20) /* bytes reserved from Content-Length */

struct fetch {
    evcurl_pool *pool;
    evcurl_req *req;
    fetch_done_fn done;
    void *arg;

    /* the request, copied; url is the hop's, origin_url the one asked
     * for, whose origin the extra headers and credentials belong to */
    char *url, *origin_url, *etag, *last_modified, *user_agent, *ca_file;
    char **headers;
    size_t nheaders;
    int connect_timeout_s, timeout_s, low_speed_time_s;
    size_t max_body;
    char *post; /* NULL for a GET */
    size_t post_len;
    bool no_redirects, keep_error_body, cut_body;

    CURL *easy;
    struct curl_slist *slist;
    netguard guard;
    char errbuf[CURL_ERROR_SIZE];
    const char *setup_error;
    char setup_msg[200]; /* what setup_error points to, when built */
    int64_t hop_t0;   /* when this hop's transfer started */
    int64_t spent_ms; /* transfer time of the hops before it */

    /* the response being read */
    long cur_status;
    bool in_body;
    bool over_cap;
    bool cut;       /* the body was cut at the cap (cut_body) */
    char *location; /* its first Location, as sent */
    bool location_long; /* it had one, over MAX_LOCATION */

    /* redirects, followed by fetch itself (see follow()) */
    bool chain_permanent;
    char *hops[MAX_HOPS]; /* the URLs asked, for loop detection */
    int nhops;
    char *hop_error; /* why a redirect was not followed */
    fetch_outcome hop_outcome;

    fetch_result res;
};

/* ---- small string helpers ----------------------------------------------- */

/* Header values from servers go back into our requests and into JSON:
 * keep them only when they are plain printable ASCII of sane length. */
static char *
ascii_dup(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max) return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c > 0x7e) return NULL;
    }
    return xstrndup(s, n);
}

/* URLs are made ASCII by percent-encoding anything else. */
static char *
url_dup(const char *s)
{
    buf b = {0};
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f)
            buf_printf(&b, "%%%02X", c);
        else
            buf_addc(&b, (char)c);
    }
    return buf_detach(&b);
}

/* curl's messages may carry bytes of the URL: printable ASCII only, no
 * trailing newline. */
static void
clean_msg(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            s[i] = '?';
}

static char *str_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *
str_printf(const char *fmt, ...)
{
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return buf_detach(&b);
}

void
fetch_format_size(char *out, size_t outsz, uint64_t n)
{
    static const char *const units[] = {"GiB", "MiB", "KiB"};
    static const unsigned shifts[] = {30, 20, 10};
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        uint64_t u = (uint64_t)1 << shifts[i];
        if (n >= u && n % u == 0) {
            snprintf(out, outsz, "%" PRIu64 " %s", n / u, units[i]);
            return;
        }
    }
    snprintf(out, outsz, "%" PRIu64 " bytes", n);
}

const char *
fetch_outcome_name(fetch_outcome o)
{
    switch (o) {
    case FETCH_OK:
        return "ok";
    case FETCH_NOT_MODIFIED:
        return "not_modified";
    case FETCH_GONE:
        return "gone";
    case FETCH_HTTP_ERROR:
        return "http_error";
    case FETCH_NET_ERROR:
        return "net_error";
    case FETCH_TOO_BIG:
        return "too_big";
    case FETCH_REFUSED:
        return "refused";
    case FETCH_ABORTED:
        return "aborted";
    }
    return "?";
}

/* ---- curl callbacks ----------------------------------------------------- */

static bool
header_is(const char *line, size_t n, const char *name, const char **val,
          size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || line[k] != ':' || ascii_strncasecmp(line, name, k)) return 0;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* A new response begins (after any 1xx): what was read of an earlier
 * one is forgotten. */
static void
on_status_line(fetch *f, long code)
{
    f->cur_status = code;
    f->in_body = false;
    free(f->res.etag);
    free(f->res.last_modified);
    free(f->location);
    f->res.etag = f->res.last_modified = f->location = NULL;
    f->location_long = false;
    f->res.retry_after = -1;
}

static size_t
header_cb(char *line, size_t size, size_t nitems, void *userdata)
{
    fetch *f = userdata;
    size_t n = size * nitems, total = n;
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;

    if (n > 5 && !memcmp(line, "HTTP/", 5)) {
        const char *p = memchr(line, ' ', n);
        long code = 0;
        if (p && (size_t)(line + n - p) >= 4)
            for (int i = 1; i <= 3 && p[i] >= '0' && p[i] <= '9'; i++)
                code = code * 10 + (p[i] - '0');
        if (code >= 200) on_status_line(f, code);
        return total;
    }
    if (f->in_body || f->cur_status < 200) return total; /* trailers, 1xx */
    if (n == 0) return total; /* end of this response's headers */
    const char *v;
    size_t vlen;
    if (header_is(line, n, "etag", &v, &vlen)) {
        free(f->res.etag);
        f->res.etag = ascii_dup(v, vlen, MAX_VALIDATOR);
    } else if (header_is(line, n, "last-modified", &v, &vlen)) {
        free(f->res.last_modified);
        f->res.last_modified = ascii_dup(v, vlen, MAX_VALIDATOR);
    } else if (header_is(line, n, "retry-after", &v, &vlen)) {
        f->res.retry_after = retry_after_parse(v, vlen, now_wall());
    } else if (header_is(line, n, "location", &v, &vlen)) {
        /* the first one, as libcurl takes it */
        if (!f->location && vlen <= MAX_LOCATION)
            f->location = xstrndup(v, vlen);
        else if (!f->location)
            f->location_long = true;
    }
    return total;
}

/* A body that may be cut (cut_body): keeps what fits under the cap and
 * stops the transfer there. The answer stands on its status; reading the
 * rest would only spend time and memory on bytes nobody looks at. */
static size_t
cut_here(fetch *f, const char *data)
{
    size_t room = f->max_body - f->res.bytes;
    f->res.bytes += room;
    if ((f->cur_status >= 200 && f->cur_status < 300) || f->keep_error_body)
        buf_add(&f->res.body, data, room);
    f->cut = true;
    return room; /* fewer than given: curl stops, CURLE_WRITE_ERROR */
}

/* Room for the whole body at once when the server said its length: a
 * body grown 16 KiB at a time was copied about once more on its way
 * (16, 32, 64 KiB...). Bounded by the cap and by BODY_RESERVE_MAX, as the
 * length is the server's word; a compressed body only gets its encoded
 * length, and grows from there. */
static void
reserve_body(fetch *f)
{
    curl_off_t len = -1;
    if (curl_easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) !=
            CURLE_OK ||
        len <= 0)
        return;
    size_t want = (uint64_t)len < f->max_body ? (size_t)len : f->max_body;
    if (want > BODY_RESERVE_MAX) want = BODY_RESERVE_MAX;
    buf_grow(&f->res.body, want);
}

/* Counts *decoded* bytes (curl has already inflated them) and stops the
 * transfer the moment the cap is passed: CURLOPT_MAXFILESIZE only sees
 * Content-Length, so it lets chunked bodies and compression bombs
 * through. */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    fetch *f = userdata;
    size_t n = size * nmemb;
    f->in_body = true;
    if (n > f->max_body - f->res.bytes) {
        if (f->cut_body) return cut_here(f, data);
        f->over_cap = true;
        return 0; /* != n: curl aborts with CURLE_WRITE_ERROR */
    }
    f->res.bytes += n;
    /* Error pages are counted (and capped) but not kept, unless asked. */
    if ((f->cur_status >= 200 && f->cur_status < 300) || f->keep_error_body) {
        if (!f->res.body.cap) reserve_body(f);
        buf_add(&f->res.body, data, n);
    }
    return n;
}

/* ---- building the request ----------------------------------------------- */

/* The extra headers (an API key, a PRIVATE-TOKEN ...) are for the origin
 * asked for: libcurl keeps Authorization and cookies from another host on
 * a redirect, but would send any other header wherever the redirect leads.
 * Hence fetch follows redirects itself, and leaves them out of a hop to
 * another scheme, host or port. */
static bool
headers_go(const fetch *f)
{
    return f->res.redirects == 0 || url_same_origin(f->url, f->origin_url);
}

static CURL *
build(void *arg)
{
    fetch *f = arg;
    f->hop_t0 = now_ms();
    if (f->setup_error) return NULL;
    CURL *e = curl_easy_init();
    if (!e) {
        f->setup_error = "out of memory";
        return NULL;
    }
    f->easy = e;
    f->errbuf[0] = '\0';
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    /* each hop is a transfer of its own: see follow() */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* "" = every encoding this libcurl decodes (gzip, deflate, br, zstd) */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)f->connect_timeout_s);
    /* the total timeout is for the whole chain of hops */
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     (long)((int64_t)f->timeout_s * 1000 - f->spent_ms));
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, (long)FETCH_LOW_SPEED_BPS);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)f->low_speed_time_s);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    /* No proxy from http_proxy & co.: the guard would judge the proxy's
     * address, not the feed's. */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (f->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
    netguard_install(e, &f->guard);

    struct curl_slist *sl = NULL;
    if (f->post) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->post);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)f->post_len);
        /* no "Expect: 100-continue" round trip for small bodies */
        sl = curl_slist_append(sl, "Expect:");
    } else {
        sl = curl_slist_append(sl, "Accept: application/rss+xml, "
                                   "application/atom+xml, application/feed+json, "
                                   "application/xml;q=0.9, text/xml;q=0.9, "
                                   "*/*;q=0.8");
    }
    char line[MAX_VALIDATOR + 32];
    if (f->etag) {
        snprintf(line, sizeof line, "If-None-Match: %s", f->etag);
        sl = curl_slist_append(sl, line);
    }
    if (f->last_modified) {
        snprintf(line, sizeof line, "If-Modified-Since: %s", f->last_modified);
        sl = curl_slist_append(sl, line);
    }
    bool extra = headers_go(f);
    for (size_t i = 0; extra && i < f->nheaders; i++)
        sl = curl_slist_append(sl, f->headers[i]);
    f->slist = sl;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl);
    return e;
}

/* ---- redirects ---------------------------------------------------------- */

/* libcurl does not follow redirects for us (see headers_go()): a 3xx
 * with a Location ends a transfer, and the next hop is a new request on
 * the same pool, under the per-host cap of its own host. */

static void finished(CURL *easy, CURLcode rc, void *arg);

static bool
is_redirect(long code)
{
    return code == 300 || code == 301 || code == 302 || code == 303 ||
           code == 307 || code == 308;
}

/* The redirect is not followed, and the fetch fails: why. */
static bool
hop_refused(fetch *f, fetch_outcome outcome, char *why)
{
    f->hop_outcome = outcome;
    f->hop_error = why;
    return false;
}

/* Where the Location leads, ready to fetch: resolved against this hop's
 * URL, its host in punycode, and with the feed's credentials when it
 * stays on the feed's origin (as libcurl keeps them for the same host).
 * NULL with hop_error set when it cannot be read or is refused. */
static char *
next_url(fetch *f)
{
    char *joined = url_follow(f->url, f->location);
    if (!joined) {
        hop_refused(f, FETCH_NET_ERROR,
                    str_printf("redirect (%ld) to a Location that is no URL",
                               f->cur_status));
        return NULL;
    }
    char *shown = url_redact(joined), why[160];
    char *ascii = url_is_http(joined) ? url_ascii_host(joined, why, sizeof why)
                                      : NULL;
    if (!url_is_http(joined))
        hop_refused(f, FETCH_REFUSED,
                    str_printf("redirect to %s refused: only http and https",
                               shown));
    else if (!ascii)
        hop_refused(f, FETCH_REFUSED,
                    str_printf("redirect to %s refused: %s", shown, why));
    free(shown);
    free(joined);
    if (!ascii) return NULL;
    char *next = url_lend_userinfo(ascii, f->origin_url);
    free(ascii);
    return next;
}

/* What the hop says of the feed's address: a leading run of 301/308
 * hops moves it (permanent_url), any 302/303/307 makes the chain
 * temporary. A feed that sends extra headers is never moved to another
 * origin: its next polls would carry the headers there. */
static void
note_hop(fetch *f, long code, const char *next)
{
    f->res.redirects++;
    bool moves = (code == 301 || code == 308) && f->chain_permanent &&
                 (!f->nheaders || url_same_origin(next, f->origin_url));
    if (moves) {
        free(f->res.permanent_url);
        f->res.permanent_url = url_dup(next);
        return;
    }
    f->chain_permanent = false;
    if (code == 302 || code == 303 || code == 307)
        f->res.temporary_redirect = true;
}

/* Forgets the response just read, for the next hop's. */
static void
reset_response(fetch *f)
{
    curl_easy_cleanup(f->easy);
    f->easy = NULL;
    curl_slist_free_all(f->slist);
    f->slist = NULL;
    buf_free(&f->res.body);
    f->res.bytes = 0;
    f->over_cap = f->cut = f->in_body = false;
    f->cur_status = 0;
}

/* After a transfer that ended well: true if it was a redirect to follow
 * and the next hop is queued; false if the answer stands, with hop_error
 * set when it is a redirect that was refused. */
static bool
follow(fetch *f)
{
    long code = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    if (f->no_redirects || !is_redirect(code)) return false;
    if (!f->location)
        return f->location_long
                   ? hop_refused(f, FETCH_NET_ERROR,
                                 str_printf("redirect to a Location over %d "
                                            "bytes", MAX_LOCATION))
                   : false;
    if (f->res.redirects >= FETCH_MAX_REDIRECTS)
        return hop_refused(f, FETCH_NET_ERROR,
                           str_printf("too many redirects (more than %d)",
                                      FETCH_MAX_REDIRECTS));
    if (f->spent_ms >= (int64_t)f->timeout_s * 1000)
        return hop_refused(f, FETCH_NET_ERROR,
                           str_printf("timeout after %ds", f->timeout_s));
    char *next = next_url(f);
    if (!next) return false;
    for (int i = 0; i < f->nhops; i++)
        if (!strcmp(f->hops[i], next)) {
            free(next);
            /* no cookies, no state: asking again gets the same answer */
            return hop_refused(f, FETCH_NET_ERROR, xstrdup("redirect loop"));
        }
    note_hop(f, code, next);
    /* (a POST, a webhook's, is sent with no_redirects: never here) */
    reset_response(f);
    free(f->url);
    f->url = next;
    f->hops[f->nhops++] = xstrdup(next);
    f->req = evcurl_submit(f->pool, f->url, build, finished, f);
    return true;
}

/* ---- the outcome -------------------------------------------------------- */

static char *
transport_error(fetch *f, CURLcode rc)
{
    char *eb = f->errbuf;
    clean_msg(eb);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        if (!strncmp(eb, "Operation too slow", 18))
            return str_printf("too slow: under %d bytes/s for %ds",
                              FETCH_LOW_SPEED_BPS, f->low_speed_time_s);
        if (f->res.elapsed_ms >= (int64_t)f->timeout_s * 1000 - 100 ||
            !strncmp(eb, "Operation timed out", 19))
            return str_printf("timeout after %ds", f->timeout_s);
        if (!strncmp(eb, "Resolving", 9))
            return str_printf("DNS timeout after %ds", f->connect_timeout_s);
        return str_printf("connect timeout after %ds", f->connect_timeout_s);
    case CURLE_COULDNT_CONNECT: {
        if (f->guard.refused[0]) return xstrdup(f->guard.refused);
        long err = 0;
        curl_easy_getinfo(f->easy, CURLINFO_OS_ERRNO, &err);
        if (err == ECONNREFUSED) return xstrdup("connect refused");
        if (err == ENETUNREACH) return xstrdup("network unreachable");
        if (err == EHOSTUNREACH) return xstrdup("host unreachable");
        if (err == ETIMEDOUT)
            return str_printf("connect timeout after %ds",
                              f->connect_timeout_s);
        return str_printf("connect failed: %s", eb[0] ? eb : "?");
    }
    case CURLE_COULDNT_RESOLVE_HOST: {
        /* errbuf: "Could not resolve host: NAME" */
        const char *h = strstr(eb, "host: ");
        return str_printf("cannot resolve host %s", h ? h + 6 : "");
    }
    case CURLE_PEER_FAILED_VERIFICATION: {
        long vr = 0;
        curl_easy_getinfo(f->easy, CURLINFO_SSL_VERIFYRESULT, &vr);
        if (vr != 0)
            return str_printf("TLS: %s", X509_verify_cert_error_string(vr));
        return str_printf("TLS: %s", eb);
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
        return str_printf("TLS: %s", eb[0] ? eb : curl_easy_strerror(rc));
    case CURLE_UNSUPPORTED_PROTOCOL:
        return xstrdup("only http and https URLs are fetched");
    case CURLE_URL_MALFORMAT:
        return str_printf("bad URL: %s", eb[0] ? eb : "malformed");
    case CURLE_PARTIAL_FILE:
        return str_printf("connection closed mid-body (after %" PRIu64
                          " bytes)",
                          f->res.bytes);
    case CURLE_GOT_NOTHING:
        return xstrdup("server closed the connection without a response");
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return str_printf("connection error: %s",
                          eb[0] ? eb : curl_easy_strerror(rc));
    case CURLE_BAD_CONTENT_ENCODING:
        return str_printf("bad content encoding: %s", eb);
    case CURLE_WEIRD_SERVER_REPLY:
        return str_printf("invalid HTTP response: %s", eb);
    default:
        return str_printf("%s%s%s", curl_easy_strerror(rc), eb[0] ? ": " : "",
                          eb);
    }
}

static void
set_charset(fetch_result *r)
{
    const char *p = r->content_type;
    while (p && (p = strchr(p, ';'))) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (ascii_strncasecmp(p, "charset=", 8)) continue;
        p += 8;
        size_t n;
        if (*p == '"') {
            p++;
            n = strcspn(p, "\"");
        } else {
            n = strcspn(p, " \t;");
        }
        r->charset = ascii_dup(p, n, 64);
        return;
    }
}

static void
finalize(fetch *f, CURL *easy, CURLcode rc)
{
    fetch_result *r = &f->res;
    r->elapsed_ms = f->spent_ms;
    if (!easy) {
        if (rc == CURLE_ABORTED_BY_CALLBACK) {
            r->outcome = FETCH_ABORTED;
            r->error = xstrdup("aborted");
        } else {
            r->outcome = FETCH_REFUSED;
            r->error = xstrdup(f->setup_error ? f->setup_error
                                              : "cannot start the transfer");
        }
        goto out;
    }
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->status);
    char *s = NULL;
    curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &s);
    /* The base of the feed's relative links, shown by `vigie fetch`:
     * without the credentials the request carried (url.h). */
    char *bare = url_strip_userinfo(s ? s : f->url);
    r->final_url = url_dup(bare);
    free(bare);
    s = NULL;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &s);
    if (s) {
        r->content_type = ascii_dup(s, strlen(s), 256);
        set_charset(r);
    }

    if (f->cut && rc == CURLE_WRITE_ERROR)
        rc = CURLE_OK; /* our own stop: the answer is complete enough */
    if (f->hop_error) {
        r->outcome = f->hop_outcome;
        r->error = f->hop_error;
        f->hop_error = NULL;
    } else if (f->over_cap) {
        char size[32];
        fetch_format_size(size, sizeof size, f->max_body);
        r->outcome = FETCH_TOO_BIG;
        r->error = str_printf("body over %s", size);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
        r->outcome = FETCH_ABORTED;
        r->error = xstrdup("aborted");
    } else if (rc != CURLE_OK) {
        r->error = transport_error(f, rc);
        r->outcome = (rc == CURLE_COULDNT_CONNECT && f->guard.refused[0]) ||
                             rc == CURLE_UNSUPPORTED_PROTOCOL ||
                             rc == CURLE_URL_MALFORMAT
                         ? FETCH_REFUSED
                         : FETCH_NET_ERROR;
    } else if (r->status >= 200 && r->status < 300) {
        r->outcome = FETCH_OK;
    } else if (r->status == 304) {
        r->outcome = FETCH_NOT_MODIFIED;
    } else if (r->status == 410) {
        r->outcome = FETCH_GONE;
        r->error = xstrdup("410 gone");
    } else {
        r->outcome = FETCH_HTTP_ERROR;
        if (f->no_redirects && r->status >= 300 && r->status < 400 &&
            f->location) {
            /* the answer's, for its caller: ASCII, as fetch.h says, for
             * it goes into logs and the outbox */
            r->location = url_dup(f->location);
        }
        if ((r->status == 429 || r->status == 503) && r->retry_after >= 0)
            r->error = str_printf("%ld, retry in %" PRId64 "s", r->status,
                                  r->retry_after);
        else
            r->error = str_printf("HTTP %ld", r->status);
    }
out:
    r->ok = r->outcome == FETCH_OK || r->outcome == FETCH_NOT_MODIFIED;
    if (r->outcome != FETCH_OK && !f->keep_error_body) buf_free(&r->body);
    if (!r->ok) {
        /* Validators of an error page mean nothing for the feed. */
        free(r->etag);
        free(r->last_modified);
        r->etag = r->last_modified = NULL;
    }
    if (!(r->status == 429 || r->status == 503)) r->retry_after = -1;
}

static void
fetch_free(fetch *f)
{
    if (f->easy) curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->slist);
    free(f->post);
    free(f->url);
    free(f->etag);
    free(f->last_modified);
    free(f->user_agent);
    free(f->ca_file);
    for (size_t i = 0; i < f->nheaders; i++)
        free(f->headers[i]);
    free(f->headers);
    free(f->location);
    free(f->origin_url);
    free(f->hop_error);
    for (int i = 0; i < f->nhops; i++)
        free(f->hops[i]);
    fetch_result *r = &f->res;
    buf_free(&r->body);
    free(r->etag);
    free(r->last_modified);
    free(r->content_type);
    free(r->charset);
    free(r->final_url);
    free(r->permanent_url);
    free(r->location);
    free(r->error);
    free(f);
}

static void
finished(CURL *easy, CURLcode rc, void *arg)
{
    fetch *f = arg;
    f->easy = easy;
    if (easy) f->spent_ms += now_ms() - f->hop_t0;
    if (easy && rc == CURLE_OK && follow(f)) return; /* the next hop is on */
    finalize(f, easy, rc);
    f->done(&f->res, f->arg);
    fetch_free(f);
}

/* ---- public ------------------------------------------------------------- */

/* A header line we would send: no line breaks (header injection), a name
 * before the colon. */
static bool
header_ok(const char *h)
{
    const char *colon = strchr(h, ':');
    return colon && colon != h && !strpbrk(h, "\r\n");
}

fetch *
fetch_start(evcurl_pool *pool, const fetch_request *req, fetch_done_fn done,
            void *arg)
{
    fetch *f = xcalloc(1, sizeof *f);
    f->pool = pool;
    f->done = done;
    f->arg = arg;
    /* DNS and TLS know an international host name by its punycode form;
     * libcurl's own conversion depends on the process locale. */
    const char *url = req->url ? req->url : "";
    char why[160];
    f->url = url_ascii_host(url, why, sizeof why);
    if (!f->url) {
        f->url = xstrdup(url);
        snprintf(f->setup_msg, sizeof f->setup_msg, "bad URL: %s", why);
        f->setup_error = f->setup_msg;
    }
    if (req->etag)
        f->etag = ascii_dup(req->etag, strlen(req->etag), MAX_VALIDATOR);
    if (req->last_modified)
        f->last_modified = ascii_dup(req->last_modified,
                                     strlen(req->last_modified), MAX_VALIDATOR);
    f->user_agent =
        xstrdup(req->user_agent && *req->user_agent ? req->user_agent
                                                    : FETCH_USER_AGENT);
    if (req->ca_file) f->ca_file = xstrdup(req->ca_file);
    for (const char *const *h = req->headers; h && *h; h++)
        f->nheaders++;
    if (f->nheaders) f->headers = xcalloc(f->nheaders, sizeof *f->headers);
    for (size_t i = 0; i < f->nheaders; i++) {
        f->headers[i] = xstrdup(req->headers[i]);
        if (!header_ok(f->headers[i]))
            f->setup_error = "extra header is not one \"Name: value\" line";
    }
    f->connect_timeout_s = req->connect_timeout_s > 0 ? req->connect_timeout_s
                                                      : FETCH_CONNECT_TIMEOUT_S;
    f->timeout_s = req->timeout_s > 0 ? req->timeout_s : FETCH_TIMEOUT_S;
    f->low_speed_time_s = req->low_speed_time_s > 0 ? req->low_speed_time_s
                                                    : FETCH_LOW_SPEED_TIME_S;
    f->max_body = req->max_body ? req->max_body : FETCH_MAX_BODY;
    f->guard.allow_private = req->allow_private;
    if (req->post_body) {
        f->post = xmalloc(req->post_len + 1);
        memcpy(f->post, req->post_body, req->post_len);
        f->post_len = req->post_len;
    }
    f->no_redirects = req->no_redirects;
    f->keep_error_body = req->keep_error_body;
    f->cut_body = req->cut_body;
    f->chain_permanent = true;
    f->origin_url = xstrdup(f->url);
    f->hops[f->nhops++] = xstrdup(f->url);
    f->res.retry_after = -1;
    f->req = evcurl_submit(pool, f->url, build, finished, f);
    return f;
}

void
fetch_cancel(fetch *f)
{
    CURL *easy = evcurl_cancel(f->req);
    f->easy = easy;
    fetch_free(f);
}

bool
fetch_header_managed(const char *name, size_t len)
{
    static const char *const managed[] = {
        "host", "content-length", "transfer-encoding", "connection",
        "te",   "upgrade",
    };
    for (size_t i = 0; i < ARRAY_LEN(managed); i++)
        if (strlen(managed[i]) == len && !ascii_strncasecmp(managed[i], name, len))
            return true;
    return false;
}

bool
fetch_header_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > 256) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') ||
                     (c && strchr("!#$%&'*+-.^_`|~", c));
        if (!token) return false;
    }
    return true;
}

int
fetch_control_byte(const char *s, size_t n, bool tab_ok)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(tab_ok && c == '\t')) || c == 0x7f) return c;
    }
    return -1;
}
