/* delivery.h — the outbox, sent: claims the alerts that are due, POSTs
 * them through evcurl (a pool of their own, so webhooks and feeds never
 * share a per-host budget), and reports every outcome back to the outbox,
 * which decides delivered, retry later or dead. Webhook URLs pass the same
 * connect-time guard against private addresses as feeds. Each delivery or
 * failure is one log line.
 *
 * An outcome the database refuses to record (disk full, locked) is kept in
 * memory and recorded, before anything else is claimed, at the next kick
 * or timer: the alert is not sent again, and its target's queue resumes as
 * soon as the database takes writes. Only an exit before then loses it,
 * and the next start sends that alert again, with the same key. */
#ifndef VIGIE_DELIVERY_H
#define VIGIE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "evcurl.h"
#include "outbox.h"

struct ev_loop;
typedef struct delivery delivery;

delivery *delivery_new(struct ev_loop *loop, evcurl *ec, outbox *ob);
/* Targets, their rate limits, URLs and formats come from cfg, which must
 * outlive the delivery or the next delivery_configure. */
void delivery_configure(delivery *d, const config *cfg);
/* There may be new work (an alert was committed, or a row retried). */
void delivery_kick(delivery *d);
/* Nothing in flight, no outcome waiting to be recorded, and nothing due
 * within the next `within_ms`: --once waits for this, up to its deadline. */
bool delivery_idle(const delivery *d, int64_t within_ms);
size_t delivery_in_flight(const delivery *d);
size_t delivery_delivered(const delivery *d);
/* Stops claiming new rows; requests in flight finish (or are aborted by
 * evcurl, and their leases run out: they are sent again next start). */
void delivery_stop(delivery *d);
void delivery_free(delivery *d);

#endif
