/* url.c — see url.h. */
#include "url.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

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
