#!/bin/sh
# bench/poll.sh — polling speed, in one run, against a local nginx serving
# the corpus (bench/serve.sh: loopback, ETag on):
#   vigie         `vigie run --once`, every feed in its config, the
#                 keywords-50 rule (matches stored with their keywords as
#                 tags; RULE=log: a log line per match instead), the store
#                 on, catch_up "forever" (every item goes through the rule)
#   sfeed         `sfeed_update` (Debian sfeed, 8 jobs), the README's ETag
#                 recipe as its fetch()
#   rss2email     `r2e run --no-send`
#   curl floor    `curl --parallel --parallel-max 64`, every URL in one
#                 process, bodies to /dev/null
# each twice: the first poll (fresh state) and the second (nothing changed:
# all 304); wall time, CPU time (user+sys of the process tree), peak RSS.
# Then vigie's idle CPU: `vigie run` (not --once) on the state of the first
# size, interval 1h, CPU ticks used over IDLE_S seconds. Writes the
# "## Poll" section of bench/RESULTS.md and prints it.
#
#   sh bench/poll.sh [--feeds N[,N...]]   (default 1000,10000; each size is
#                                         measured with every tool in turn)
# Environment: VIGIE (default build/vigie), PORT (nginx, default 18090),
# PER_HOST, MAX_CONCURRENT (vigie's, default 64 and 64), RULE (store|log),
# REPEAT (timed runs of the fast passes — curl, vigie's all-304 — the best
# kept; default 3), SLOW_MAX (sfeed_update and rss2email only on sizes up
# to this; default 1000: they take minutes per 1,000 feeds), IDLE_S
# (default 60; 0 skips), PERF=1 (profile vigie's first poll of the first
# size with perf record -e cpu-clock and add a breakdown).

. "$(dirname "$0")/lib.sh"

SIZES=
while [ $# -gt 0 ]; do
    case $1 in
    --feeds) SIZES="$SIZES $(echo "$2" | tr , ' ')"; shift 2 ;;
    --feeds=*) SIZES="$SIZES $(echo "${1#--feeds=}" | tr , ' ')"; shift ;;
    -h|--help) sed -n '2,29s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "$0: unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -n "$SIZES" ] || SIZES=${FEEDS:-1000 10000}
bench_init
for n in $SIZES; do
    case $n in ''|*[!0-9]*|0) echo "$0: --feeds: not a number: $n" >&2; exit 2 ;; esac
done

VIGIE=${VIGIE:-$ROOT/build/vigie}
case $VIGIE in /*) ;; *) VIGIE=$ROOT/$VIGIE ;; esac
[ -x "$VIGIE" ] || { echo "poll: $VIGIE does not exist (make)" >&2; exit 1; }
PORT=${PORT:-18090}
PER_HOST=${PER_HOST:-64}
MAX_CONCURRENT=${MAX_CONCURRENT:-64}
RULE=${RULE:-store}
REPEAT=${REPEAT:-3}
SLOW_MAX=${SLOW_MAX:-1000}
IDLE_S=${IDLE_S:-60}
PERF=${PERF:-0}
case $RULE in store|log) ;; *) echo "poll: RULE: store or log" >&2; exit 2 ;; esac

SECTION=$OUT/poll-section.md
BODY=$OUT/poll-body.md
NOTES=$OUT/poll-notes.md
: >"$BODY"
: >"$NOTES"
note() { echo "- $*" >>"$NOTES"; echo "poll: $*" >&2; }
say() { echo "poll: $*" >&2; }
SERVING=
cleanup() {
    [ -n "$SERVING" ] && sh "$BENCH/serve.sh" stop "$PORT" >/dev/null 2>&1
    SERVING=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mib() { fmt "$1 / 1024"; }

# row TOOL POLL OK — one table line from WALL, CPU, RSS.
row() {
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$WALL" "$CPU" \
        "$(mib "$RSS")" "$3" >>"$TABLE"
}

# The keywords-50 rule: its list written into the script (rules cannot
# read files).
write_rule() {
    {
        echo "-- keywords-50.txt as a rule (written by bench/poll.sh, RULE=$RULE)"
        echo "local m = vigie.keywords{"
        "$PY" -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8"):
    l = l.strip()
    if l:
        print("  %s," % json.dumps(l, ensure_ascii=False))' "$1"
        echo "}"
        echo
        # (printf: dash's echo would turn the \n into a newline)
        printf '%s\n' 'function on_item(item)' \
            '  local hits = m:match(item.title .. "\n" .. item.summary)' \
            '  if #hits == 0 then return end'
        if [ "$RULE" = store ]; then
            printf '%s\n' '  vigie.store(item, { tags = hits })'
        else
            printf '%s\n' '  vigie.log("notice", "%s: %s", table.concat(hits, ", "), item.title)'
        fi
        echo "end"
    } >"$2"
}

# write_config FILE STATE_DIR RULE_FILE URLS
write_config() {
    {
        echo "-- written by bench/poll.sh"
        echo "state_dir = \"$2\""
        echo "allow_private_networks = true -- nginx on 127.0.0.1"
        echo "catch_up = \"forever\""
        echo "interval = \"1h\""
        echo "per_host = $PER_HOST"
        echo "max_concurrent = $MAX_CONCURRENT"
        echo "scripts = { \"$3\" }"
        echo "feeds = {"
        sed 's/.*/  "&",/' "$4"
        echo "}"
    } >"$1"
}

# sample_rss PIDFILE OUT — parent and worker VmRSS every 0.25 s while the
# process in PIDFILE lives: "seconds parent_kib worker_kib" lines.
sample_rss() {
    _i=0
    while [ ! -s "$1" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    _p=$(cat "$1" 2>/dev/null) || return 0
    _t0=$(date +%s%N)
    while kill -0 "$_p" 2>/dev/null; do
        _w=$(pgrep -P "$_p" | head -n 1)
        echo "$(( ($(date +%s%N) - _t0) / 1000000 )) $(awk '/^VmRSS/ { print $2 }' \
            /proc/"$_p"/status 2>/dev/null) $(awk '/^VmRSS/ { print $2 }' \
            /proc/"${_w:-0}"/status 2>/dev/null)"
        sleep 0.25
    done >"$2"
}

# ticks PID — utime+stime of a process, in clock ticks.
ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
ctxt() {
    awk '/voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }' \
        "/proc/$1/status" 2>/dev/null || echo 0
}

# The log of a --once run: "fetched+parsed by X s, committed by Y s".
timeline() {
    "$PY" - "$1" <<'EOF'
import re, sys, datetime
t0 = last = None
handover = 0
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"(\d+-\d+-\d+ \d+:\d+:\d+\.\d+) ", line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    if t0 is None:
        t0 = t
    last = t
    m = re.search(r", (\d+) ms$", line.rstrip())
    if m and " feed " in line:
        handover = max(handover, int(m.group(1)))
if t0 is not None:
    print("%.1f %.1f" % (handover / 1000, last - t0))
EOF
}

# --- one size ----------------------------------------------------------------
measure() {
    FEEDS=$1
    if [ $((FEEDS % 1000)) -eq 0 ]; then NAME=$((FEEDS / 1000))k; else NAME=$FEEDS; fi
    CORPUS=$BENCH/corpus/$NAME
    use_corpus
    [ -n "$CORPUS_NOTE" ] && note "$CORPUS_NOTE"
    W=$OUT/poll-$NAME
    rm -rf "$W"
    mkdir -p "$W"
    TABLE=$W/table.md
    : >"$TABLE"
    ITEMS=$(manifest items)
    BYTES=$(manifest bytes)
    KW=$(manifest items_with_keywords)
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

    sed "s|^http://127\.0\.0\.1:[0-9]*/|http://127.0.0.1:$PORT/|" \
        "$CORPUS/urls.txt" >"$W/urls.txt"
    N=$(wc -l <"$W/urls.txt")
    sh "$BENCH/serve.sh" start "$CORPUS" "$PORT" >&2 || exit 1
    SERVING=1
    (cd "$CORPUS/feeds" && ls | xargs cat >/dev/null) # warm the page cache

    # --- curl floor ---------------------------------------------------------
    awk '{ print "url = \"" $0 "\"\noutput = \"/dev/null\"" }' "$W/urls.txt" \
        >"$W/curl-get.cfg"
    # an untimed pass for the ETags (and to check every answer is a 200)
    curl -s --parallel --parallel-max 64 -K "$W/curl-get.cfg" \
        -w '%{url_effective}\t%{http_code}\t%header{etag}\n' \
        >"$W/curl-etags.tsv" 2>/dev/null
    ok=$(awk -F'\t' '$2 == 200' "$W/curl-etags.tsv" | wc -l)
    [ "$ok" -eq "$N" ] || note "$NAME: curl: $ok of $N URLs answered 200"
    # one option group per URL (`next`), each with its If-None-Match
    awk -F'\t' 'NR > 1 { print "next" }
        { gsub(/"/, "\\\"", $3)
          print "url = \"" $1 "\"\noutput = \"/dev/null\"\nsilent"
          print "header = \"If-None-Match: " $3 "\"" }' \
        "$W/curl-etags.tsv" >"$W/curl-cond.cfg"
    sed 's/^silent$/silent\nwrite-out = "%{http_code}\\n"/' "$W/curl-cond.cfg" \
        >"$W/curl-cond-check.cfg"
    c304=$(curl -s --parallel --parallel-max 64 -K "$W/curl-cond-check.cfg" \
        2>/dev/null | grep -c '^304$')
    [ "$c304" -eq "$N" ] || note "$NAME: curl with If-None-Match: $c304 of $N answers were 304"

    say "$NAME: curl floor ($REPEAT runs each)"
    best_of "$REPEAT" /dev/null \
        "exec curl -s --parallel --parallel-max 64 -K '$W/curl-get.cfg' 2>/dev/null"
    row "curl floor" "first (all 200)" "$ok/$N"
    best_of "$REPEAT" /dev/null \
        "exec curl -s --parallel --parallel-max 64 -K '$W/curl-cond.cfg' 2>/dev/null"
    row "curl floor" "second (If-None-Match: all 304)" "$c304/$N"

    # --- vigie --------------------------------------------------------------
    write_rule "$CORPUS/keywords-50.txt" "$W/kw50.lua"
    write_config "$W/vigie.lua" "$W/state" "$W/kw50.lua" "$W/urls.txt"
    "$VIGIE" check -c "$W/vigie.lua" >&2 || exit 1
    rm -rf "$W/state"
    say "$NAME: vigie run --once, first poll"
    : >"$W/vigie.pid"
    sample_rss "$W/vigie.pid" "$W/rss.txt" &
    sampler=$!
    timed /dev/null "echo \$\$ >'$W/vigie.pid'; exec '$VIGIE' run --once -c '$W/vigie.lua' 2>'$W/first.log'"
    wait "$sampler"
    done_line=$(grep ' done: ' "$W/first.log" | tail -n 1 | sed 's/.*done: //')
    [ "$RC" -eq 0 ] || note "$NAME: vigie first poll: exit status $RC ($done_line)"
    polled=$(grep -c ' feed .*: 200, ' "$W/first.log")
    stored=$("$PY" -c 'import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print(c.execute("select count(*) from items").fetchone()[0],
      c.execute("select count(*) from seen").fetchone()[0])' "$W/state/vigie.db")
    seen=${stored#* }
    stored=${stored% *}
    [ "$seen" -eq "$ITEMS" ] || note "$NAME: vigie marked $seen items seen, the corpus has $ITEMS"
    if [ "$RULE" = store ] && [ "$stored" -ne "$KW" ]; then
        note "$NAME: vigie stored $stored items, $KW have a keyword (manifest)"
    fi
    set -- $(timeline "$W/first.log")
    tl_fetch=${1:-?} tl_end=${2:-?}
    set -- $(awk '$2 > p { p = $2 } $3 > w { w = $3 }
                  END { print p + 0, w + 0 }' "$W/rss.txt")
    rss_parent=$1 rss_worker=$2
    FIRST_WALL=$WALL FIRST_CPU=$CPU FIRST_RSS=$RSS
    row "vigie" "first (fresh state)" "$polled/$N"
    if [ "$PERF" = 1 ] && [ -z "${PERF_DONE:-}" ] && command -v perf >/dev/null; then
        PERF_DONE=1
        say "$NAME: vigie first poll under perf"
        rm -rf "$W/state-perf"
        sed "s|^state_dir = .*|state_dir = \"$W/state-perf\"|" "$W/vigie.lua" >"$W/vigie-perf.lua"
        perf record -q -e cpu-clock -F 499 --call-graph dwarf,16384 -o "$W/perf.data" \
            "$VIGIE" run --once -c "$W/vigie-perf.lua" 2>/dev/null
        perf report -i "$W/perf.data" --children --sort sym -g none 2>/dev/null \
            >"$W/perf.txt"
        perf report -i "$W/perf.data" --no-children --sort pid -g none 2>/dev/null |
            grep '%' >"$W/perf-pid.txt"
        rm -rf "$W/state-perf" "$W/perf.data"
    fi

    say "$NAME: vigie run --once, second poll ($REPEAT runs)"
    best_of "$REPEAT" /dev/null "exec '$VIGIE' run --once -c '$W/vigie.lua' 2>'$W/second.log'"
    [ "$RC" -eq 0 ] || note "$NAME: vigie second poll: exit status $RC"
    n304=$(grep -c ' not modified, ' "$W/second.log")
    SECOND_WALL=$WALL SECOND_CPU=$CPU
    row "vigie" "second (all 304)" "$n304/$N"
    syncs=
    if command -v strace >/dev/null; then
        timed /dev/null "exec strace -f -qq -T -e trace=fdatasync,fsync \
            -o '$W/strace.txt' '$VIGIE' run --once -c '$W/vigie.lua' 2>/dev/null"
        syncs=$(awk -v w="$WALL" '/sync\(/ { n++; t = $NF; gsub(/[<>]/, "", t); s += t }
            END { printf "%d fdatasync/fsync calls, %.2f s waiting in them, in %.2f s of wall", n, s, w }' \
            "$W/strace.txt")
    fi

    # --- sfeed_update -------------------------------------------------------
    if [ "$N" -gt "$SLOW_MAX" ]; then
        note "$NAME: sfeed_update and rss2email not run (SLOW_MAX=$SLOW_MAX)"
    elif command -v sfeed_update >/dev/null; then
        S=$W/sfeed
        rm -rf "$S"
        mkdir -p "$S/etags" "$S/feeds"
        {
            echo "# written by bench/poll.sh"
            echo "sfeedpath=\"$S/feeds\""
            echo "# fetch(name, url, feedfile): the README's ETag recipe"
            echo "fetch() {"
            echo "	etag=\"$S/etags/\$(basename \"\$3\")\""
            echo '	curl \'
            echo '		-L --max-redirs 0 -H "User-Agent:" -f -s -m 15 \'
            echo '		--compressed \'
            echo '		--etag-save "${etag}" --etag-compare "${etag}" \'
            echo '		-z "${etag}" \'
            echo '		"$2" 2>/dev/null'
            echo "}"
            echo "feeds() {"
            awk '{ printf "\tfeed \"f%05d\" \"%s\"\n", NR - 1, $0 }' "$W/urls.txt"
            echo "}"
        } >"$S/sfeedrc"
        say "$NAME: sfeed_update, first poll"
        timed "$S/first.out" "exec sfeed_update '$S/sfeedrc' 2>'$S/first.err'"
        ok=$(grep -c ' OK$' "$S/first.out")
        lines=$(cat "$S/feeds"/* | wc -l)
        [ "$RC" -eq 0 ] || note "$NAME: sfeed_update first poll: exit status $RC"
        [ "$lines" -eq "$ITEMS" ] || note "$NAME: sfeed_update kept $lines items, the corpus has $ITEMS"
        row "sfeed_update (8 jobs)" "first (ETag recipe)" "$ok/$N"
        say "$NAME: sfeed_update, second poll"
        timed "$S/second.out" "exec sfeed_update '$S/sfeedrc' 2>'$S/second.err'"
        ok=$(grep -c ' OK$' "$S/second.out")
        [ "$RC" -eq 0 ] || note "$NAME: sfeed_update second poll: exit status $RC"
        row "sfeed_update (8 jobs)" "second (ETag recipe: all 304)" "$ok/$N"
    else
        note "sfeed_update: not installed (apt-get install sfeed)"
    fi

    # --- rss2email ----------------------------------------------------------
    if [ "$N" -gt "$SLOW_MAX" ]; then
        :
    elif command -v r2e >/dev/null; then
        R=$W/r2e
        rm -rf "$R"
        mkdir -p "$R"
        # `r2e new`, then every feed written straight into its config and
        # data files (what `r2e add` writes; 1,000 adds would each rewrite
        # both files); `r2e list` checks the result.
        r2e -c "$R/cfg" -d "$R/data.json" new bench@example.invalid >/dev/null 2>&1
        "$PY" - "$W/urls.txt" "$R/cfg" "$R/data.json" <<'EOF'
import json, sys
urls = [l.strip() for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "a") as f:
    for i, u in enumerate(urls):
        f.write("\n[feed.f%05d]\nurl = %s\n" % (i, u))
json.dump({"version": 2, "feeds": [{"name": "f%05d" % i, "etag": None,
           "modified": None, "seen": {}} for i in range(len(urls))]},
          open(sys.argv[3], "w"))
EOF
        sed -i 's/^verbose = .*/verbose = warning/' "$R/cfg"
        nf=$(r2e -c "$R/cfg" -d "$R/data.json" list 2>/dev/null | wc -l)
        [ "$nf" -eq "$N" ] || note "$NAME: r2e list shows $nf feeds, not $N"
        r2e_seen() {
            "$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(sum(1 for f in d["feeds"] if f["etag"]), sum(len(f["seen"]) for f in d["feeds"]))' "$R/data.json"
        }
        say "$NAME: r2e run --no-send, first poll"
        timed /dev/null "exec r2e -c '$R/cfg' -d '$R/data.json' run --no-send 2>'$R/first.err'"
        [ "$RC" -eq 0 ] || note "$NAME: r2e first poll: exit status $RC"
        set -- $(r2e_seen)
        [ "$2" -eq "$ITEMS" ] || note "$NAME: rss2email saw $2 items, the corpus has $ITEMS"
        v=$(r2e --version 2>/dev/null | head -n 1 | awk '{ print $NF }')
        row "rss2email $v" "first" "$1 ETags saved"
        say "$NAME: r2e run --no-send, second poll"
        timed /dev/null "exec r2e -c '$R/cfg' -d '$R/data.json' run --no-send 2>'$R/second.err'"
        [ "$RC" -eq 0 ] || note "$NAME: r2e second poll: exit status $RC"
        row "rss2email $v" "second (all 304)" "-"
    else
        note "rss2email: not installed (apt-get install rss2email)"
    fi

    # --- vigie idle ------------------------------------------------------------
    idle=
    if [ "$IDLE_S" -gt 0 ] && [ -z "${IDLE_DONE:-}" ]; then
        IDLE_DONE=1
        say "$NAME: vigie run (not --once), ${IDLE_S}s of idle"
        "$VIGIE" run -c "$W/vigie.lua" 2>"$W/idle.log" &
        vp=$!
        i=0
        while ! grep -q ' feeds$' "$W/idle.log" 2>/dev/null && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
        sleep 2 # startup done: config, scripts, the worker
        wp=$(pgrep -P "$vp" | head -n 1)
        t0=$(( $(ticks "$vp") + $(ticks "${wp:-0}") ))
        c0=$(( $(ctxt "$vp") + $(ctxt "${wp:-0}") ))
        l0=$(wc -l <"$W/idle.log")
        sleep "$IDLE_S"
        t1=$(( $(ticks "$vp") + $(ticks "${wp:-0}") ))
        c1=$(( $(ctxt "$vp") + $(ctxt "${wp:-0}") ))
        polls=$(tail -n +$((l0 + 1)) "$W/idle.log" | grep -c ' feed ')
        kill -TERM "$vp"
        wait "$vp"
        hz=$(getconf CLK_TCK)
        idle="$((t1 - t0)) ticks ($(fmt "($t1 - $t0) / $hz") s at $hz Hz) in ${IDLE_S} s,"
        idle="$idle $((c1 - c0)) voluntary context switches (wakeups), $polls polls"
    fi

    cleanup
    LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

    # --- this size's part of the section -------------------------------------
    {
        echo "### $N feeds"
        echo
        echo "Corpus: bench/corpus/$NAME, $N feeds, $ITEMS items, $(fmt "$BYTES / 1e6") MB" \
            "($(manifest command)). Load average $LOAD0 before, $LOAD1 after."
        echo
        echo "| tool | poll | wall s | CPU s | peak RSS MiB | feeds ok |"
        echo "| --- | --- | ---: | ---: | ---: | ---: |"
        cat "$TABLE"
        echo
        echo "vigie, first poll: \`$done_line\`; $stored items stored ($KW have a" \
            "keyword), $seen marked seen. The slowest feed took ${tl_fetch} s" \
            "from its request to its parsed document's hand-over to the rules," \
            "the last feed was committed at ${tl_end} s (from its log)." \
            "Resident size (sampled every 0.25 s): the daemon at most" \
            "$(mib "$rss_parent") MiB; the rule worker at most $(mib "$rss_worker") MiB."
        [ -n "$syncs" ] && echo "vigie, second poll: $syncs (strace -f -T, one" \
            "more run)."
        [ -n "$idle" ] && echo "vigie idle (\`vigie run\`, interval 1h, after the" \
            "polls above): $idle. The daemon's upkeep (retention, merging the" \
            "full-text index the first poll wrote) runs 60 s after start, then" \
            "every 10 minutes: a minute measured from start includes its first" \
            "pass. The outbox is otherwise looked at every 5 minutes (\`vigie" \
            "outbox retry\` wakes the daemon with SIGUSR1)."
        if [ -s "$W/perf.txt" ]; then
            echo
            echo "Where vigie's first poll spends its CPU (perf record -e cpu-clock," \
                "dwarf call graphs; % of all samples, the rule worker included," \
                "a callee counted in its callers):"
            echo
            echo "| function | % |"
            echo "| --- | ---: |"
            # by process: the daemon first, then the rule worker
            echo "| the daemon process | $(awk 'NR == 1 { print $1 }' "$W/perf-pid.txt") |"
            echo "| the rule worker process | $(awk 'NR == 2 { print $1 }' "$W/perf-pid.txt") |"
            for f in feed_parse curl_multi_socket_action store_classify \
                store_begin store_mark_seen store_put_item store_commit \
                sqlite3WalFrames sqlite3VtabSync fts_write script_on_item \
                matcher_scan; do
                p=$(awk -v s="$f" '$4 == s || $5 == s { print $1; exit }' "$W/perf.txt")
                [ -n "$p" ] && echo "| $f | $p |"
            done
        fi
        echo
    } >>"$BODY"
}

for n in $SIZES; do
    measure "$n"
done

# --- the section -------------------------------------------------------------
{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(machine)."
    echo "Reproduce: \`sh bench/poll.sh --feeds $(echo $SIZES | tr ' ' ,)\`" \
        "(REPEAT=$REPEAT: curl and vigie's second poll are the best of" \
        "$REPEAT runs, the other passes one run; SLOW_MAX=$SLOW_MAX)."
    echo "Server: nginx (bench/nginx.conf, 1 worker, ETag on, access log off) on" \
        "127.0.0.1:$PORT, page cache warm. Its CPU is not counted; the" \
        "clients share the 2 cores with it."
    echo "vigie: \`vigie run --once -c bench/out/poll-NAME/vigie.lua\`: every" \
        "feed listed in the config, per_host = $PER_HOST, max_concurrent =" \
        "$MAX_CONCURRENT (every feed is on one host here, standing for many)," \
        "allow_private_networks, catch_up = \"forever\", the store on, the" \
        "rule bench/out/poll-NAME/kw50.lua: the 50 keywords of keywords-50.txt" \
        "matched in title and summary, $(if [ "$RULE" = store ]; then
            echo "a matching item stored (vigie.store) with its keywords as tags, no alert"
        else echo "a matching item logged (vigie.log), nothing stored"; fi)." \
        "Second poll: the same command on the same state dir."
    echo "sfeed_update: Debian sfeed $(dpkg-query -W -f '${Version}' sfeed 2>/dev/null)," \
        "8 jobs (its default), its sfeedrc lists every feed and overrides" \
        "fetch() with the README's ETag recipe (curl --etag-save/--etag-compare -z)," \
        "for both polls. rss2email: \`r2e run --no-send\`, every feed in its" \
        "config. curl: \`curl --parallel --parallel-max 64 -K LIST\`, bodies to" \
        "/dev/null; its second pass sends each URL's ETag from an untimed first" \
        "pass (one option group per URL)."
    echo "CPU is user+sys of the process tree (GNU time), peak RSS the largest" \
        "process of the tree."
    echo
    echo "Targets (issue 3) for 10,000 feeds with a keyword rule and the store" \
        "on: first poll within 10 s wall and 64 MiB peak RSS; all-304 poll" \
        "within 1 s; no CPU while idle."
    echo
    cat "$BODY"
    if [ -s "$NOTES" ]; then cat "$NOTES"; fi
} >"$SECTION"
write_section Poll "$SECTION"
echo "## Poll"
echo
cat "$SECTION"
