/* evcurl.h — libcurl's multi-socket API on a libev loop, with caps.
 *
 * The only module that knows both libraries. One `evcurl` per loop owns a
 * curl multi handle (shared connection cache and DNS cache) and a global
 * cap on transfers in flight. Requests are submitted to a *pool*, which
 * carries a per-host cap (feed fetching and webhook delivery each have
 * their own pool, so one cannot eat the other's per-host budget).
 *
 * A request that cannot start yet waits in a FIFO per host; hosts with
 * room take turns (round robin), so 1,000 waiting feeds of one host never
 * hold back another host. The easy handle is built only when the request
 * starts (the `start` callback), so thousands of waiting requests cost a
 * few dozen bytes each, not a configured curl handle.
 *
 * Callbacks (`start`, `done`) are only ever called from the event loop (or
 * from evcurl_abort_all), never from inside evcurl_submit or
 * evcurl_cancel. evcurl owns CURLOPT_PRIVATE of the handles it runs. */
#ifndef VIGIE_EVCURL_H
#define VIGIE_EVCURL_H

#include <stddef.h>

#include <curl/curl.h>

struct ev_loop;
typedef struct evcurl evcurl;
typedef struct evcurl_pool evcurl_pool;
typedef struct evcurl_req evcurl_req;

/* Builds the configured easy handle when a slot is free. Returning NULL
 * fails the request: `done` is then called with (NULL, CURLE_FAILED_INIT). */
typedef CURL *(*evcurl_start_fn)(void *arg);
/* The transfer ended (rc is curl's result; CURLE_ABORTED_BY_CALLBACK from
 * evcurl_abort_all). The request is already gone from evcurl; the caller
 * owns `easy` again (NULL if it never started) and must clean it up. done
 * may submit new requests or cancel others, but not call evcurl_free.
 * `start` must not call evcurl functions. */
typedef void (*evcurl_done_fn)(CURL *easy, CURLcode rc, void *arg);

/* max_in_flight: global cap on concurrent transfers (>= 1). Also calls
 * curl_global_init on first use. */
evcurl *evcurl_new(struct ev_loop *loop, int max_in_flight);
/* Aborts everything (evcurl_abort_all), frees all pools and the multi. */
void evcurl_free(evcurl *ec);
void evcurl_set_max(evcurl *ec, int max_in_flight);

/* A pool of requests sharing a per-host cap (>= 1). Pools live until
 * evcurl_free. */
evcurl_pool *evcurl_pool_new(evcurl *ec, int per_host);
void evcurl_pool_set_per_host(evcurl_pool *p, int per_host);

/* Queues a request; the per-host cap applies to the host name of `url`
 * (case-insensitive, port ignored). Never fails; the handle is valid until
 * `done` is called or evcurl_cancel returns. */
evcurl_req *evcurl_submit(evcurl_pool *p, const char *url,
                          evcurl_start_fn start, evcurl_done_fn done,
                          void *arg);
/* Withdraws a request; neither callback is called afterwards. Returns the
 * easy handle if it had started (the caller cleans it up), else NULL. */
CURL *evcurl_cancel(evcurl_req *r);
/* Ends every request, waiting or in flight, calling each `done` with
 * CURLE_ABORTED_BY_CALLBACK (requests those callbacks submit are aborted
 * too). For shutdown after a grace period. */
void evcurl_abort_all(evcurl *ec);

/* Counters, for status and tests. */
size_t evcurl_in_flight(const evcurl *ec);
size_t evcurl_waiting(const evcurl *ec);

#endif
