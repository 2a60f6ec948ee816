-- vigie.lua: the configuration of vigie, the feed watcher.
--
-- This file is Lua 5.4. vigie runs it once at start and again on each
-- reload (SIGHUP), in a sandbox: the base library without io, load,
-- require or dofile; string, table, math, utf8; os.time, os.date,
-- os.clock and os.getenv; and the two helpers below. It has a budget of
-- instructions and memory, so a mistake ends with an error, not a hang.
--
-- The file sets globals. Every global it sets must be one of the settings
-- below (a misspelt one is an error, not silently ignored); use `local`
-- for your own variables. Unset settings keep the default shown here on a
-- commented line.
--
-- Values:
--   durations  a number of seconds (90, 0.5) or a string with units:
--              "500ms", "90s", "15m", "2h", "1d", "1w", "1h30m"
--   sizes      a number of bytes, or "64KiB", "16MiB", "1GiB" (powers of
--              1024) or "64KB", "16MB", "1GB" (powers of 1000); "16M" is
--              refused as ambiguous
--   "forever"  (or "never", "off", false) where a line says so
--
-- Paths: a relative path (state_dir, scripts, feed paths, vigie.opml,
-- vigie.glob) is relative to the directory of THIS file, whatever the
-- working directory. In the source tree this file is etc/vigie.lua, so
-- "../feeds/samples/nato-fr.xml" is feeds/samples/nato-fr.xml.
--
-- Helpers:
--   vigie.opml(path [, defaults])    the feeds of an OPML file (each outline
--                                    with an xmlUrl; title becomes name)
--   vigie.glob(pattern [, defaults]) one { path = ... } feed per matching
--                                    local file, sorted
--   (defaults: a table copied into every feed returned, e.g. an interval)
--
-- Check this file after editing it:   vigie check -c /etc/vigie/vigie.lua

-- Where vigie keeps its database. Under systemd, StateDirectory=vigie sets
-- $STATE_DIRECTORY (/var/lib/vigie); `make run` points it at build/.
state_dir = os.getenv("STATE_DIRECTORY") or "/var/lib/vigie"

-- Fetching --------------------------------------------------------------
-- interval = "15m"                -- how often a feed is polled (per feed too)
-- min_interval = "1m"             -- any interval below this is an error
-- timeout = "30s"                 -- total time allowed for one fetch
-- connect_timeout = "10s"         -- time allowed to connect
-- max_body = "16MiB"              -- cap on a feed's size after decompression
-- user_agent = "vigie/<version> (+https://github.com/vigie-monitor/vigie)"
-- per_host = 4                    -- transfers at once to one host
-- max_concurrent = 64             -- transfers at once in all
-- allow_private_networks = false  -- allow loopback/LAN addresses (also webhooks)
-- log_level = "info"              -- error, warning, notice, info or debug

-- Rules -----------------------------------------------------------------
-- scripts = {}                    -- rule files run on every feed's new items
-- rule_timeout = "2s"             -- time one on_item call may take
-- rule_memory = "64MiB"           -- memory a rule script may use
scripts = { "../scripts/balkans.lua" }

-- Store and duplicates -----------------------------------------------------
-- catch_up = "24h"                -- first poll: older items are only marked seen ("forever": all, 0: none)
-- The bundled samples are from August 2024: `make run` (VIGIE_DEMO=1) lets
-- them all through the rules so that the demo alerts; keep 24h for real feeds.
catch_up = os.getenv("VIGIE_DEMO") and "forever" or "24h"
-- keep_seen = "90d"               -- forget ids of items gone from their feed after this ("forever")
-- keep_items = "forever"          -- how long stored items are kept
-- dedup = true                    -- same link and title as an item in any feed: a duplicate
-- dedup_window = "7d"             -- how far back that comparison looks ("forever")

-- Health ----------------------------------------------------------------
-- alert_after = "6h"              -- alert once when a feed has failed this long (false: never)
-- health = nil                    -- the webhook for health alerts (nil: the log only)

-- Feeds -----------------------------------------------------------------
-- A list. An entry is a URL string, or a table with exactly one of
--   url = "https://..."      an http or https feed
--   path = "file.xml"        a local file
-- and optionally
--   name = "NATO (fr)"       unique; shown in logs and status, item.feed.name
--   interval, timeout        instead of the defaults above
--   scripts = { ... }        instead of the default scripts, for this feed
--   headers = { ["Authorization"] = "Bearer ..." }  extra request headers
--                            (not Host or other headers vigie manages),
--                            sent to the feed's own scheme, host and port
--                            only, never where it redirects elsewhere
--   allow_private_networks = true   for this feed only
--   silent_after = "3d"      alert (to `health`) when no new item came for
--                            this long (default: off)
-- An entry may also be a list of feeds (what vigie.opml and vigie.glob
-- return); it is flattened. Two feeds with the same URL (scheme and host
-- compared in lower case, default port ignored) or path are an error.
feeds = {
  -- The bundled sample feeds, read from disk: `make run` works offline.
  vigie.glob("../feeds/samples/*.xml"),

  -- One by one, with names:
  -- { path = "../feeds/samples/nato-fr.xml", name = "NATO (fr)" },
  -- { url = "https://www.nato.int/cps/rss/en/natohq/rssFeed.xsl/rssFeed.xml",
  --   name = "NATO", interval = "30m" },
  -- Or an OPML export from another reader:
  -- vigie.opml("../feeds/example.opml", { interval = "1h" }),
}

-- Webhooks --------------------------------------------------------------
-- Named targets for vigie.alert(name, payload) in rules. Each takes
--   url = "https://..."      where alerts are POSTed
--   format = "json"          json, slack, discord, mattermost, ntfy, matrix,
--                            or function(payload, item) return body [, type] end
--                            (it runs in this file's Lua state, kept for it;
--                            the content type defaults to application/json)
--   secret = "..."           adds X-Vigie-Signature: sha256=<HMAC of the body>
--   headers = { ... }        extra request headers
--   max_per_minute = 30      rate limit; the excess waits (default: none)
--   give_up_after = "24h"    then the alert is dead-lettered (vigie outbox)
--   timeout = "30s"          per POST (default: timeout above)
--   allow_private_networks = true   needed for a receiver on this machine
webhooks = {
  -- scripts/balkans.lua alerts "analyst". Here it is a receiver on this
  -- machine (`make run` starts tools/webhook-receiver.py on port 8808);
  -- point it at your own service, e.g. a Slack incoming webhook:
  --   analyst = { url = "https://hooks.slack.com/services/...", format = "slack" },
  analyst = { url = os.getenv("VIGIE_ANALYST_URL") or "http://127.0.0.1:8808/analyst",
              format = "json", allow_private_networks = true },
  -- ops = { url = "https://hooks.slack.com/services/T000/B000/XXXX",
  --         format = "slack",
  --         secret = assert(os.getenv("VIGIE_OPS_SECRET"), "VIGIE_OPS_SECRET is unset") },
  -- local_receiver = { url = "http://127.0.0.1:8787/alerts",
  --                    allow_private_networks = true },
}
