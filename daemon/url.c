/* url.c — see url.h. */
#include "url.h"

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
    /* Setting a relative URL on a handle that holds the base resolves it. */
    if (curl_url_set(u, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_URL, ref,
                     CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &out, 0) == CURLUE_OK)
        result = arena_strdup(a, out);
    curl_free(out);
    curl_url_cleanup(u);
    return result;
}
