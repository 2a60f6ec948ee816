/* fetch.h — one polite feed GET on the event loop.
 *
 * What every fetch does, so that no caller has to remember it:
 * conditional GET (If-None-Match / If-Modified-Since when known; a 304
 * carries no body); Accept-Encoding for what curl was built with (gzip,
 * deflate, br, zstd) with the cap on *decoded* bytes enforced in the write
 * callback, the transfer aborted the moment it passes, and the result
 * failed — a truncated body is never handed on; an honest User-Agent; only
 * http and https, also after redirects; at most 5 redirects, a loop named
 * as such; the extra headers and the URL's credentials for the origin
 * of the URL asked only (fetch follows redirects itself, and a hop to
 * another scheme, host or port goes without them); connect, total (for
 * all the hops together) and low-speed timeouts; no cookies; no proxy
 * from the environment; TLS verified; the SSRF guard (netguard.h) unless
 * allow_private. Errors come as one short human string ("timeout after
 * 30s", "body over 16 MiB", "TLS: certificate has expired", "connect
 * refused", "redirect loop", "429, retry in 600s", "refused: 127.0.0.1 is
 * a loopback address (allow_private_networks is off)"). */
#ifndef VIGIE_FETCH_H
#define VIGIE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evcurl.h"
#include "util.h"

/* Where vigie's User-Agent points: the daemon's default and vigie fetch's
 * alike (config.c uses it). */
#ifndef VIGIE_URL
#define VIGIE_URL "https://github.com/vigie-monitor/vigie"
#endif
#define FETCH_USER_AGENT "vigie/" VIGIE_VERSION " (+" VIGIE_URL ")"
#define FETCH_MAX_BODY (16u * 1024 * 1024)

/* Headers that libcurl and vigie set themselves (Host, Content-Length ...):
 * neither the configuration nor vigie fetch may give them. */
bool fetch_header_managed(const char *name, size_t len);
/* Whether name (len bytes) is an HTTP header name: a token of 1 to 256
 * bytes. */
bool fetch_header_name_ok(const char *name, size_t len);
/* The first control byte of s[0..n) (below 0x20, or DEL; a tab only when
 * !tab_ok), or -1: a header value allows tabs, a User-Agent none. */
int fetch_control_byte(const char *s, size_t n, bool tab_ok);
#define FETCH_CONNECT_TIMEOUT_S 10
#define FETCH_TIMEOUT_S 30
#define FETCH_LOW_SPEED_BPS 100   /* cut when slower than this ...    */
#define FETCH_LOW_SPEED_TIME_S 15 /* ... for this long            */
#define FETCH_MAX_REDIRECTS 5

/* What to fetch. Strings are copied by fetch_start; 0/NULL fields take the
 * defaults above. */
typedef struct fetch_request {
    const char *url;
    const char *etag;           /* from the last 200, or NULL */
    const char *last_modified;  /* idem */
    /* extra "Name: value" lines, NULL-ended: sent to url's origin only */
    const char *const *headers;
    const char *user_agent;
    const char *ca_file; /* PEM bundle trusted instead of the system's */
    int connect_timeout_s, timeout_s, low_speed_time_s;
    size_t max_body; /* decoded bytes */
    bool allow_private;
    /* A POST instead of a GET (webhook delivery): the body is copied. */
    const void *post_body;
    size_t post_len;
    bool no_redirects;    /* a 3xx is the answer, not a hop */
    bool keep_error_body; /* keep the body of non-2xx answers too (capped) */
    /* A body over max_body is cut there, the rest never read, and the
     * answer stands on its status (webhook answers: only the status and
     * the first bytes matter) instead of failing as FETCH_TOO_BIG. */
    bool cut_body;
} fetch_request;

typedef enum fetch_outcome {
    FETCH_OK,           /* 2xx: body is the complete decoded body */
    FETCH_NOT_MODIFIED, /* 304: validators unchanged, no body */
    FETCH_GONE,         /* 410: the feed is gone for good */
    FETCH_HTTP_ERROR,   /* any other status (retry_after set on 429/503) */
    FETCH_NET_ERROR,    /* DNS, connect, TLS, timeout, reset, ... */
    FETCH_TOO_BIG,      /* decoded body over max_body */
    FETCH_REFUSED,      /* policy: SSRF guard, scheme, bad request */
    FETCH_ABORTED,      /* evcurl_abort_all (shutdown) */
} fetch_outcome;

/* Outcome of one fetch. Owned by fetch; valid during the done callback,
 * which may take any pointer field (set it to NULL / buf_detach it). */
typedef struct fetch_result {
    fetch_outcome outcome;
    bool ok;        /* FETCH_OK or FETCH_NOT_MODIFIED */
    long status;    /* last HTTP status, 0 if none */
    buf body;       /* only for FETCH_OK; empty otherwise */
    uint64_t bytes; /* decoded body bytes received (also on failure) */
    char *etag, *last_modified;   /* of the final response, or NULL */
    char *content_type, *charset; /* charset from Content-Type, or NULL */
    char *final_url;              /* after redirects (ASCII), no userinfo */
    int redirects;                /* hops followed */
    /* Target of the leading run of 301/308 hops (A -301-> B -302-> C gives
     * B): the URL the feed should be stored under if `ok`, credentials
     * included (redact it to show it). NULL if the first hop was not
     * permanent. With extra headers, the run ends at a hop to another
     * origin: the next polls would send them there. */
    char *permanent_url;
    bool temporary_redirect; /* some 302/303/307 hop */
    /* With no_redirects, a 3xx answer's Location as sent (ASCII, maybe
     * relative, credentials included: redact it to show it), or NULL. */
    char *location;
    int64_t retry_after;     /* seconds from Retry-After, or -1 */
    char *error;             /* NULL when ok */
    int64_t elapsed_ms;      /* from the transfer's start */
} fetch_result;

typedef struct fetch fetch;
typedef void (*fetch_done_fn)(fetch_result *res, void *arg);

/* Queues the fetch on `pool` (caps apply); `done` runs from the loop. The
 * handle is valid until done returns. */
fetch *fetch_start(evcurl_pool *pool, const fetch_request *req,
                   fetch_done_fn done, void *arg);
/* Withdraws a fetch; done is not called. */
void fetch_cancel(fetch *f);

const char *fetch_outcome_name(fetch_outcome o); /* "ok", "not_modified" */
/* "16 MiB", "512 KiB", "1000 bytes" — for limits in messages. */
void fetch_format_size(char *out, size_t outsz, uint64_t n);

#endif
