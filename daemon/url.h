/* url.h — making links absolute, and host names fit for the wire.
 *
 * url_resolve() follows RFC 3986 reference resolution (through libcurl's
 * URL API) and never fails: when there is no usable base, or the reference
 * is already absolute, or it cannot be parsed, it returns the reference as
 * given (trimmed). Results live in the arena.
 *
 * url_ascii_host() turns an international domain name into the punycode
 * form DNS and TLS know ("bücher.example" → "xn--bcher-kva.example"),
 * leaving every other byte of the URL as written.
 *
 * A feed's URL may carry credentials ("http://user:secret@host/"). They go
 * in the HTTP request and nowhere else: every URL vigie logs, prints,
 * stores in an alert or hands to a rule goes through url_redact() first
 * ("http://user:***@host/"); links made absolute against a feed's address
 * use url_strip_userinfo(). */
#ifndef VIGIE_URL_H
#define VIGIE_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* True if s starts with a URI scheme ("http:", "mailto:", ...). */
bool url_is_absolute(const char *s);
/* True if s is an absolute http:// or https:// URL. */
bool url_is_http(const char *s);
/* ref resolved against base (base may be NULL or relative: then ref is
 * returned unchanged). */
const char *url_resolve(arena *a, const char *base, const char *ref);

/* url with a non-ASCII host in punycode (IDNA 2008, as libcurl does it);
 * a copy of url when its host is ASCII already. NULL with why when the
 * host is not a valid international domain name, or libcurl cannot
 * convert it. malloc'ed. */
char *url_ascii_host(const char *url, char *why, size_t whylen);

/* url as it may be shown or sent: the password of its userinfo is "***"
 * ("http://user:***@host/"), a userinfo without one (a token, perhaps) is
 * "***" whole, and so is the value of a query (or fragment) parameter
 * named for a secret: token, access_token, api_key, apikey, key, auth,
 * password, passwd, secret, sig, signature, private_token, client_secret,
 * and any name ending in token, secret, signature, password, apikey,
 * api_key or api-key, case aside ("/feed?private_token=***&page=2"). A
 * copy of url when there is nothing to hide. malloc'ed. */
char *url_redact(const char *url);
/* The same, kept in the arena; NULL stays NULL. */
char *url_redact_in(arena *a, const char *url);
/* url without its userinfo ("http://host/"), for the base of links a
 * reader follows. malloc'ed. */
char *url_strip_userinfo(const char *url);

/* Where a redirect's Location leads from base, resolved as libcurl's own
 * redirect following does it (relative references keep base's userinfo;
 * spaces and non-ASCII bytes percent-encoded); any scheme is kept, for
 * the caller to judge. NULL when Location is empty or cannot be read.
 * malloc'ed. */
char *url_follow(const char *base, const char *location);
/* True if a and b have the same origin: scheme, host (case aside) and
 * port (the scheme's default when not written). False if either cannot
 * be parsed. The origin is what a feed's credentials and headers are
 * bound to. */
bool url_same_origin(const char *a, const char *b);
/* to, with from's userinfo when to has none and both have the same
 * origin: a redirect to an absolute URL of the feed's own origin keeps
 * the feed's credentials (as libcurl keeps them for the same host). A
 * copy of to otherwise. malloc'ed. */
char *url_lend_userinfo(const char *to, const char *from);

/* A webhook URL for a message: for Slack, Discord and most receivers the
 * path *is* the secret, so only "scheme://host" is shown, "/…" standing
 * for the rest ("https://hooks.slack.com/…"). malloc'ed. */
char *url_origin_shown(const char *url);

#endif
