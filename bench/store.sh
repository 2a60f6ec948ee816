#!/bin/sh
# bench/store.sh — the store, on one corpus, in one run:
#   items/s     `vigie run --once` on the corpus files as local `path`
#               feeds (no HTTP) with scripts/store-all.lua (every item
#               stored: FTS on, synchronous=FULL, one transaction per feed),
#               catch_up "forever"; raw, and net of what `vigie parse` takes
#               on the same files
#   alerts/s    a rule that alerts on every item of ALERT_FEEDS feeds, to a
#               local receiver: nginx answering 200 to any POST, and
#               tools/webhook-receiver.py (Python, ThreadingHTTPServer); a
#               backlog (alerts queued first, then delivered by one
#               `vigie run --once`) and alerts delivered while polling
#   database    bytes per stored item, and against the stored text (title +
#               summary + content bytes), by table
# Writes the "## Store" section of bench/RESULTS.md and prints it.
#
#   sh bench/store.sh [--feeds N]      (default 1000)
# Environment: VIGIE (default build/vigie), REPEAT (timed runs, the best
# kept; default 3), ALERT_FEEDS (default 100), ALERT_PER_HOST (per_host for
# the alert runs; default 4, vigie's), RECV_PORT (nginx receiver, default
# 18092; the Python one uses RECV_PORT + 1).

. "$(dirname "$0")/lib.sh"
bench_init "$@"
use_corpus

REPEAT=${REPEAT:-3}
ALERT_FEEDS=${ALERT_FEEDS:-100}
ALERT_PER_HOST=${ALERT_PER_HOST:-4}
RECV_PORT=${RECV_PORT:-18092}
PY_PORT=$((RECV_PORT + 1))
DEAD_URL=http://127.0.0.1:9/hook # nothing listens: alerts wait in the outbox
VIGIE=${VIGIE:-$ROOT/build/vigie}
case $VIGIE in /*) ;; *) VIGIE=$ROOT/$VIGIE ;; esac
[ -x "$VIGIE" ] || { echo "store: $VIGIE does not exist (make)" >&2; exit 1; }
FEEDDIR=$CORPUS/feeds
W=$OUT/store-$NAME
rm -rf "$W"
mkdir -p "$W"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
ITEMS=$(manifest items)
BYTES=$(manifest bytes)

NOTES=$W/notes.md
: >"$NOTES"
note() { echo "- $*" >>"$NOTES"; echo "store: $*" >&2; }
say() { echo "store: $*" >&2; }
[ -n "$CORPUS_NOTE" ] && note "$CORPUS_NOTE"

NGINX_PID= PY_PID=
cleanup() {
    [ -n "$NGINX_PID" ] && kill -TERM "$NGINX_PID" 2>/dev/null
    [ -n "$PY_PID" ] && kill -TERM "$PY_PID" 2>/dev/null
    NGINX_PID= PY_PID=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

(cd "$FEEDDIR" && ls | grep '\.xml$') >"$W/files.txt"
NFILES=$(wc -l <"$W/files.txt")
(cd "$FEEDDIR" && xargs cat <"$W/files.txt" >/dev/null) # warm the page cache

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
done_line() { grep ' done: ' "$1" | tail -n 1 | sed 's/.*done: //'; }
delivered() { done_line "$1" | sed -n 's/.*; \([0-9]*\) alerts delivered.*/\1/p'; }

# db_query DB SQL — one row, fields separated by spaces.
db_query() {
    "$PY" -c 'import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(*c.execute(sys.argv[2]).fetchone())' "$1" "$2"
}

# --- vigie parse, the part of the work that is not the store's ----------------
NBATCH=$(cd "$FEEDDIR" && xargs sh -c 'echo' sh <"$W/files.txt" | wc -l)
[ "$NBATCH" -eq 1 ] || note "vigie parse took $NBATCH processes (xargs)"
say "vigie parse ($REPEAT runs)"
best_of "$REPEAT" /dev/null \
    "cd '$FEEDDIR' && exec xargs '$VIGIE' parse <'$W/files.txt'"
[ "$RC" -eq 0 ] || note "vigie parse: exit status $RC"
P_WALL=$WALL P_CPU=$CPU P_RSS=$RSS

# --- store-all ------------------------------------------------------------------
cat >"$W/store.lua" <<EOF
-- written by bench/store.sh
state_dir = "$W/state"
catch_up = "forever"
scripts = { "$ROOT/scripts/store-all.lua" }
feeds = vigie.glob("$FEEDDIR/*.xml")
EOF
"$VIGIE" check -c "$W/store.lua" >&2 || exit 1
say "vigie run --once with store-all.lua ($REPEAT runs, each on a fresh state dir)"
bw= bc= br=0 rc=0
i=0
while [ $i -lt "$REPEAT" ]; do
    rm -rf "$W/state"
    timed /dev/null "exec '$VIGIE' run --once -c '$W/store.lua' 2>'$W/store.log'"
    [ "$RC" -ne 0 ] && rc=$RC
    if [ -z "$bw" ] || awk "BEGIN { exit !($WALL < $bw) }"; then bw=$WALL; fi
    if [ -z "$bc" ] || awk "BEGIN { exit !($CPU < $bc) }"; then bc=$CPU; fi
    [ "$RSS" -gt "$br" ] && br=$RSS
    i=$((i + 1))
done
S_WALL=$bw S_CPU=$bc S_RSS=$br
[ "$rc" -eq 0 ] || note "store-all run: exit status $rc ($(done_line "$W/store.log"))"
DB=$W/state/vigie.db
# the text as stored: title, summary and content bytes (since schema 5
# summary and content are one LZ4-compressed body whose 5-byte head says
# their size, plus one for the NUL between them)
set -- $("$PY" - "$DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
cols = [r[1] for r in c.execute("pragma table_info(items)")]
n = text = 0
if "body" in cols:
    for title, head in c.execute("select cast(title as blob), substr(body, 1, 5) from items"):
        n += 1
        text += len(title) + int.from_bytes(head[1:5], "little") - 1
else:
    n, text = c.execute("select count(*), sum(length(cast(title as blob)) +"
                        " length(cast(summary as blob)) +"
                        " length(cast(content as blob))) from items").fetchone()
print(n, text)
EOF
)
STORED=$1 TEXT=$2
SEEN=$(db_query "$DB" "select count(*) from seen")
[ "$SEEN" -eq "$ITEMS" ] || note "store-all: $SEEN items marked seen, the corpus has $ITEMS"
[ "$STORED" -eq "$ITEMS" ] || note "store-all: $STORED items stored of $ITEMS" \
    "(the others: duplicates by link+title, or not new)"
DBBYTES=0
for f in "$DB" "$DB-wal" "$DB-shm"; do
    [ -f "$f" ] && DBBYTES=$((DBBYTES + $(wc -c <"$f")))
done
# by table (dbstat): the items and their index, the FTS index, the seen ids
BREAKDOWN=$("$PY" - "$DB" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
try:
    rows = c.execute("select name, sum(pgsize) from dbstat group by name").fetchall()
except sqlite3.Error as e:
    print("(no dbstat: %s)" % e)
    sys.exit()
groups = {}
for name, size in rows:
    if name.startswith("items_fts"):
        g = "FTS5 index (items_fts*)"
    elif name == "items" or name.startswith("sqlite_autoindex_items"):
        g = "items (+ its unique index)"
    elif name == "seen":
        g = "seen ids"
    else:
        g = "the rest (feeds, outbox, schema...)"
    groups[g] = groups.get(g, 0) + size
print("; ".join("%s %.1f MB" % (g, s / 1e6)
                for g, s in sorted(groups.items(), key=lambda kv: -kv[1])))
EOF
)
if command -v strace >/dev/null; then
    rm -rf "$W/state"
    timed /dev/null "exec strace -f -qq -T -e trace=fdatasync,fsync \
        -o '$W/strace.txt' '$VIGIE' run --once -c '$W/store.lua' 2>/dev/null"
    SYNCS=$(awk -v w="$WALL" '/sync\(/ { n++; t = $NF; gsub(/[<>]/, "", t); s += t }
        END { printf "%d fdatasync/fsync calls, %.2f s waiting in them (%.2f s of wall under strace)", n, s, w }' \
        "$W/strace.txt")
fi

# --- alerts ---------------------------------------------------------------------------
# nginx: `return 200` for everything, the arrival time of each request logged
R=$W/recv
mkdir -p "$R"
cat >"$R/nginx.conf" <<EOF
# written by bench/store.sh: a webhook receiver answering 200 to any request
worker_processes 1;
pid $R/nginx.pid;
error_log $R/error.log warn;
events { worker_connections 1024; }
http {
    log_format arrival '\$msec \$status \$request_method \$request_length';
    access_log $R/access.log arrival;
    client_body_temp_path $R/body;
    proxy_temp_path $R/proxy;
    fastcgi_temp_path $R/fastcgi;
    uwsgi_temp_path $R/uwsgi;
    scgi_temp_path $R/scgi;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$RECV_PORT;
        location / { return 200; }
    }
}
EOF
if curl -s -o /dev/null -m 2 "$DEAD_URL"; then
    note "something answers on $DEAD_URL: the backlog runs below are not a backlog"
fi
nginx -p "$R" -c "$R/nginx.conf" -e "$R/error.log" 2>"$R/start.err" ||
    { cat "$R/start.err" >&2; exit 1; }
i=0
while [ ! -s "$R/nginx.pid" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
NGINX_PID=$(cat "$R/nginx.pid")
"$PY" "$ROOT/tools/webhook-receiver.py" --port "$PY_PORT" >"$R/py.out" 2>&1 &
PY_PID=$!
i=0
while ! grep -q listening "$R/py.out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done

head -n "$ALERT_FEEDS" "$W/files.txt" >"$W/alert-files.txt"
NA=$(wc -l <"$W/alert-files.txt")
printf '%s\n' '-- written by bench/store.sh: an alert for every item' \
    'function on_item(item)' \
    '  vigie.alert("sink", { text = item.title })' \
    'end' >"$W/alert-all.lua"
# alert_config FILE URL
alert_config() {
    {
        echo "-- written by bench/store.sh"
        echo "state_dir = \"$W/alert-state\""
        echo "catch_up = \"forever\""
        echo "per_host = $ALERT_PER_HOST"
        echo "scripts = { \"$W/alert-all.lua\" }"
        echo "webhooks = { sink = { url = \"$2\", format = \"json\","
        echo "                      allow_private_networks = true } }"
        echo "feeds = {"
        sed "s|.*|  { path = \"$FEEDDIR/&\" },|" "$W/alert-files.txt"
        echo "}"
    } >"$1"
}
alert_config "$W/alert-dead.lua" "$DEAD_URL"
alert_config "$W/alert-nginx.lua" "http://127.0.0.1:$RECV_PORT/hook"
alert_config "$W/alert-py.lua" "http://127.0.0.1:$PY_PORT/hook"
"$VIGIE" check -c "$W/alert-nginx.lua" >&2 || exit 1

ATABLE=$W/alerts.md
: >"$ATABLE"
# window LOG — seconds from the first to the last "delivered" log line
window() {
    "$PY" - "$1" <<'EOF'
import datetime, re, sys
ts = []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if ": delivered (" in line:
        m = re.match(r"(\S+ \S+) ", line)
        ts.append(datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp())
print("%.3f" % (ts[-1] - ts[0]) if len(ts) > 1 else "0")
EOF
}
# arow RECEIVER HOW LOG RECV_TICKS
arow() {
    _d=$(delivered "$3")
    _d=${_d:-0}
    _win=$(window "$3")
    if awk "BEGIN { exit !($_win > 0) }"; then _r=$(fmt "$_d / $_win"); else _r=-; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$_d" \
        "$WALL" "$(fmt "$_d / $WALL")" "$_r" "$CPU" "$(fmt "$CPU * 1e6 / ($_d + 0.000001)")" \
        "$(fmt "$4 / $(getconf CLK_TCK)")" >>"$ATABLE"
    [ "$_d" -eq "$QUEUED" ] || note "$1, $2: $_d of $QUEUED alerts delivered" \
        "($(done_line "$3"))"
}

# backlog RECEIVER CONFIG RECV_PID — queue every alert (nothing listens on
# DEAD_URL), `vigie outbox retry --all`, then time the run that sends them.
backlog() {
    rm -rf "$W/alert-state"
    "$VIGIE" run --once -c "$W/alert-dead.lua" 2>"$W/alert-queue.log"
    QUEUED=$(db_query "$W/alert-state/vigie.db" "select count(*) from outbox")
    "$VIGIE" outbox -c "$2" retry --all >/dev/null 2>&1
    _k0=$(ticks "$3") # (not _t0: timed uses it)
    timed /dev/null "exec '$VIGIE' run --once -c '$2' 2>'$W/alert-$1.log'"
    _k1=$(ticks "$3")
    arow "$1" "backlog: $QUEUED queued, then sent" "$W/alert-$1.log" $((_k1 - _k0))
}

NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -n 1)
say "alerts: backlog to nginx"
backlog nginx "$W/alert-nginx.lua" "${NGINX_WORKER:-$NGINX_PID}"
say "alerts: backlog to webhook-receiver.py"
backlog python "$W/alert-py.lua" "$PY_PID"
say "alerts: polling and delivering at once, to nginx"
rm -rf "$W/alert-state"
t0=$(ticks "${NGINX_WORKER:-$NGINX_PID}")
timed /dev/null "exec '$VIGIE' run --once -c '$W/alert-nginx.lua' 2>'$W/alert-live.log'"
t1=$(ticks "${NGINX_WORKER:-$NGINX_PID}")
QUEUED=$(db_query "$W/alert-state/vigie.db" "select count(*) from outbox")
arow nginx "while polling: rules, store and delivery at once" "$W/alert-live.log" $((t1 - t0))
cleanup
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the section -------------------------------------------------------------------
ips() { fmt "$ITEMS / ($1)"; }
SECTION=$W/section.md
{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(machine);" \
        "load average $LOAD0 before, $LOAD1 after."
    echo "Corpus: bench/corpus/$NAME, $NFILES feeds, $ITEMS items," \
        "$(fmt "$BYTES / 1e6") MB ($(manifest command)), read from disk" \
        "(page cache warm)."
    echo "Reproduce: \`sh bench/store.sh --feeds $FEEDS\` (REPEAT=$REPEAT:" \
        "the best wall time and the best CPU time of $REPEAT runs, each on a" \
        "fresh state dir)."
    if awk "BEGIN { exit !(${LOAD0%% *} > 1 || ${LOAD1%% *} > 1) }"; then
        echo
        echo "Other work shared the cores during this run (load average" \
            "above 1): wall times are pessimistic, CPU times less so."
    fi
    echo
    echo "### Items through parse, dedup, rules and store"
    echo
    echo "\`vigie run --once -c bench/out/store-$NAME/store.lua\`: every file" \
        "of bench/corpus/$NAME/feeds as a \`path\` feed (vigie.glob)," \
        "scripts/store-all.lua, catch_up = \"forever\", the other settings" \
        "their defaults (dedup on). Net = minus \`vigie parse\` on the same" \
        "files (one process: $P_WALL s wall, $P_CPU s CPU, $(fmt "$P_RSS / 1024") MiB)."
    echo
    echo "| | wall s | CPU s | items | items/s (wall) | items per CPU s | peak RSS MiB |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    echo "| vigie run --once, store-all | $S_WALL | $S_CPU | $STORED | $(ips "$S_WALL") | $(ips "$S_CPU") | $(fmt "$S_RSS / 1024") |"
    echo "| net of vigie parse | $(fmt "$S_WALL - $P_WALL") | $(fmt "$S_CPU - $P_CPU") | $STORED | $(ips "$S_WALL - $P_WALL") | $(ips "$S_CPU - $P_CPU") | |"
    echo
    echo "Target (issue 5): at least 20,000 items/s stored on one core." \
        "CPU is user+sys of the daemon and its rule worker."
    [ -n "${SYNCS:-}" ] && echo "The wall time the CPU does not explain:" \
        "$SYNCS (one more run, under strace -f -T)."
    echo "\`$(done_line "$W/store.log")\`"
    echo
    echo "### Database"
    echo
    echo "After the store-all run: $DBBYTES bytes (vigie.db$(
        [ -f "$DB-wal" ] && echo " with its -wal and -shm")) for $STORED" \
        "stored items: $(fmt "$DBBYTES / $STORED") bytes per stored item." \
        "Their text (title + summary + content, bytes before compression):" \
        "$TEXT bytes, $(fmt "$TEXT / $STORED") per item; the database is" \
        "**$(fmt "$DBBYTES / $TEXT")x the stored text** (target: at most 1.5x)." \
        "By table (dbstat): $BREAKDOWN."
    echo
    echo "### Alerts delivered"
    echo
    echo "bench/out/store-$NAME/alert-all.lua alerts the webhook \"sink\" (format" \
        "json) on every item of the first $NA feeds, per_host = $ALERT_PER_HOST" \
        "(vigie's delivery keeps at most 16 in flight). Receivers: nginx" \
        "(\`return 200\`, 1 worker, 127.0.0.1:$RECV_PORT) and" \
        "tools/webhook-receiver.py (ThreadingHTTPServer, prints a line per" \
        "alert; 127.0.0.1:$PY_PORT). Backlog: the alerts are queued by a run" \
        "whose webhook points at a port where nothing listens, \`vigie outbox" \
        "retry --all\`, then one timed \`vigie run --once\` (the feeds" \
        "unchanged: nothing but delivery) sends them."
    echo
    echo "| receiver | how | delivered | wall s | alerts/s (wall) | alerts/s (first to last delivery) | vigie CPU s | vigie CPU µs per alert | receiver CPU s |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    cat "$ATABLE"
    echo
    echo "Target (issue 5): at least 2,000 alerts/s delivered to a local receiver."
    echo
    grep -q . "$NOTES" && cat "$NOTES"
} >"$SECTION"
write_section Store "$SECTION"
echo "## Store"
echo
cat "$SECTION"
