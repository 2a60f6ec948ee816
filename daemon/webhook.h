/* webhook.h — the HTTP request for one alert: body, headers, signature.
 *
 * Pure functions (no I/O): the transport sends what webhook_build() gives.
 * Bodies by format (each service's documented incoming-webhook body; the
 * text is payload.text when the payload has a string "text", else built
 * from the item's title and link; item-derived text is escaped for the
 * service's markup, payload text is escaped only where the service
 * requires it):
 *   json        {"vigie":1,"id":KEY,"target":…,"script":…,"created":…,
 *                "payload":{…},"item":{…}|null,"feed":{…}|null}
 *   slack       {"text":…}  (&, <, > escaped; the item as <link|title>)
 *   mattermost  {"text":…}  (Markdown; the item as [title](link))
 *   discord     {"content":…,"allowed_mentions":{"parse":[]}}
 *               (≤ 2000 characters; no @everyone pings from feed text)
 *   ntfy        the message as text/plain, with Title (RFC 2047 when not
 *               ASCII) and Click (the item link) headers
 *   matrix      {"text":…,"html":…}, matrix-hookshot's generic webhook
 * Long texts are cut at each service's limit, on a UTF-8 boundary, with
 * "…". Every request carries Content-Type, Idempotency-Key and, when the
 * webhook has a secret, X-Vigie-Signature: sha256=<hex HMAC-SHA256 of the
 * exact body bytes, keyed with the secret>. */
#ifndef VIGIE_WEBHOOK_H
#define VIGIE_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* One alert, as the outbox keeps it. JSON texts: payload is an object;
 * item (the `vigie parse` item shape) and feed ({"key","url","name",
 * "title","link"}) may be NULL. */
typedef struct webhook_alert {
    const char *target, *key, *script;
    const char *payload, *item, *feed;
    int64_t created; /* ms */
} webhook_alert;

#define WEBHOOK_MAX_HEADERS 8

typedef struct webhook_request {
    const char *method; /* "POST" */
    char *content_type;
    buf body;
    char *headers[WEBHOOK_MAX_HEADERS]; /* "Name: value", no CR/LF */
    size_t nheaders;
} webhook_request;

/* Formats by name: "json", "slack", "discord", "mattermost", "ntfy",
 * "matrix" (the config's webhook_format_name()). */
bool webhook_format_known(const char *format);

/* Builds the request for alert a. 0, or -1 with why (unknown format,
 * payload not a JSON object). req must be freed either way. */
int webhook_build(webhook_request *req, const char *format, const char *secret,
                  const webhook_alert *a, char *err, size_t errlen);
/* For a body made elsewhere (a Lua format function): the same headers and
 * signature around the given bytes. */
void webhook_build_raw(webhook_request *req, const char *content_type,
                       const void *body, size_t len, const char *secret,
                       const char *key);
void webhook_request_free(webhook_request *req);

/* "sha256=" + 64 hex digits + NUL. */
#define WEBHOOK_SIG_LEN 72
void webhook_sign(char out[WEBHOOK_SIG_LEN], const char *secret,
                  const void *body, size_t len);

#endif
