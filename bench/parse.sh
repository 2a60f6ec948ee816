#!/bin/sh
# bench/parse.sh — parse speed on one corpus, in one run:
#   vigie parse     all files in one process (JSON to /dev/null)
#   sfeed           one process per file, and all files as one stream
#   feedparser      Debian's python3-feedparser, all files in one process
#   SAX floor       bench/sax_floor.c: libxml2 SAX2, empty callbacks
# wall time, CPU time, MB/s (10^6 bytes), items/s, peak RSS; then user-space
# instructions per input byte under callgrind on the first 100 feeds (vigie,
# sfeed on the stream, the floor). Writes the "## Parse" section of
# bench/RESULTS.md and prints it.
#
#   sh bench/parse.sh [--feeds N]      (default 1000; the corpus is
#                                       generated under bench/corpus/ if absent)
# Environment: VIGIE (default build/vigie), REPEAT (timed runs per tool, the
# best is kept; default 3), REPEAT_SLOW (feedparser; default 1), CALLGRIND=0
# to skip the instruction counts.
#
# Every multi-file tool is run as `xargs TOOL < list` from the feeds
# directory: one process as long as the names fit xargs' command line
# (about 12,000 feeds); the table says how many processes it took.

. "$(dirname "$0")/lib.sh"
bench_init "$@"
ensure_corpus

REPEAT=${REPEAT:-3}
REPEAT_SLOW=${REPEAT_SLOW:-1}
CALLGRIND=${CALLGRIND:-1}
VIGIE=${VIGIE:-$ROOT/build/vigie}
case $VIGIE in /*) ;; *) VIGIE=$ROOT/$VIGIE ;; esac
FEEDDIR=$CORPUS/feeds
W=$OUT/parse-$NAME
mkdir -p "$W"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

(cd "$FEEDDIR" && ls | grep '\.xml$') >"$W/files.txt"
head -n 100 "$W/files.txt" >"$W/first100.txt"
NFILES=$(wc -l <"$W/files.txt")
BYTES=$(manifest bytes)
ITEMS=$(manifest items)
NBATCH=$(cd "$FEEDDIR" && xargs sh -c 'echo' sh <"$W/files.txt" | wc -l)
if [ "$NBATCH" -eq 1 ]; then HOW="1 process"; else HOW="xargs: $NBATCH processes"; fi

# The floor, rebuilt when its source changes.
FLOOR=$ROOT/build/bench/sax_floor
if [ ! -x "$FLOOR" ] || [ "$BENCH/sax_floor.c" -nt "$FLOOR" ]; then
    mkdir -p "$(dirname "$FLOOR")"
    ${CC:-cc} -std=c11 -O2 -Wall -Wextra -o "$FLOOR" "$BENCH/sax_floor.c" \
        $(pkg-config --cflags --libs libxml-2.0) || exit 1
fi

# The stream for sfeed (made once, outside the timing) and the warm cache.
ALL=$W/all.xml
A100=$W/first100.xml
if [ ! -f "$ALL" ] || [ "$CORPUS/manifest.json" -nt "$ALL" ]; then
    (cd "$FEEDDIR" && xargs cat <"$W/files.txt") >"$ALL"
    (cd "$FEEDDIR" && xargs cat <"$W/first100.txt") >"$A100"
fi
B100=$(wc -c <"$A100")
cat "$ALL" >/dev/null
(cd "$FEEDDIR" && xargs cat <"$W/files.txt" >/dev/null)
printf 'for f; do sfeed <"$f"; done\n' >"$W/sfeed-each.sh"

TABLE=$W/table.md
NOTES=$W/notes.md
: >"$TABLE"
: >"$NOTES"
note() { echo "- $*" >>"$NOTES"; echo "parse: $*" >&2; }

# row TOOL HOW ITEMS IR — one table line from WALL, CPU, RSS.
row() {
    _mbs=$(fmt "$BYTES / 1e6 / $WALL")
    if [ -n "$3" ]; then _ips=$(fmt "$3 / $WALL"); else _ips=-; fi
    if [ -n "$4" ]; then _ipb=$(fmt "$4 / $B100"); else _ipb=-; fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" \
        "$WALL" "$CPU" "$_mbs" "$(fmt "$BYTES / 1e6 / $CPU")" "${3:--}" "$_ips" \
        "$(fmt "$RSS / 1024")" "$_ipb" >>"$TABLE"
}

# check_items TOOL N — the count a tool printed against the generator's.
check_items() {
    if [ -z "$2" ]; then
        note "$1: no item count"
    elif [ "$2" -ne "$ITEMS" ]; then
        note "$1: $2 items, the generator wrote $ITEMS"
    fi
}

cg() { [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; }

# --- vigie parse ------------------------------------------------------------
first=$(head -n 1 "$W/files.txt")
if [ ! -x "$VIGIE" ]; then
    note "vigie: skipped: $VIGIE does not exist (make)"
elif ! (cd "$FEEDDIR" && "$VIGIE" parse "$first") >"$W/probe.out" \
        2>"$W/probe.err" || [ "$(head -c 1 "$W/probe.out")" != "{" ]; then
    note "vigie: skipped: \`vigie parse $first\` failed:" \
        "$(head -n 1 "$W/probe.err" | cut -c1-120)"
else
    echo "parse: vigie parse ($REPEAT runs)" >&2
    best_of "$REPEAT" /dev/null \
        "cd '$FEEDDIR' && exec xargs '$VIGIE' parse <'$W/files.txt'"
    [ "$RC" -ne 0 ] && note "vigie: exit status $RC on the corpus"
    set -- "$WALL" "$CPU" "$RSS"
    (cd "$FEEDDIR" && xargs "$VIGIE" parse <"$W/files.txt") >"$W/vigie.jsonl"
    # count items; compare ids with the generator's, file by file
    n=$("$PY" -c '
import json, sys
files = ["feeds/" + l.strip() for l in open(sys.argv[2])]
want = {}
for l in open(sys.argv[3], encoding="utf-8"):
    t = json.loads(l)
    want.setdefault(t["file"], []).append(t["id"])
docs = items = bad = 0
example = ""
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    got = [i.get("id") for i in json.loads(line).get("items", [])]
    f = files[docs] if docs < len(files) else "?"
    exp = want.get(f, [])
    for k in range(max(len(got), len(exp))):
        g = got[k] if k < len(got) else None
        e = exp[k] if k < len(exp) else None
        if g != e:
            bad += 1
            example = example or "%s item %d: %r, generator %r" % (f, k, g, e)
    docs += 1
    items += len(got)
if bad:
    print("vigie: %d item ids differ from the generator'"'"'s, e.g. %s"
          % (bad, example), file=sys.stderr)
print(docs, items)' "$W/vigie.jsonl" "$W/files.txt" "$CORPUS/truth.jsonl" \
        2>"$W/vigie-ids.txt")
    [ -s "$W/vigie-ids.txt" ] && note "$(cat "$W/vigie-ids.txt")"
    [ -n "$n" ] || n="0 "
    rm -f "$W/vigie.jsonl"
    [ "${n% *}" = "$NFILES" ] ||
        note "vigie: ${n% *} JSON lines for $NFILES files"
    n=${n#* }
    check_items vigie "$n"
    IR=
    if cg; then
        echo "parse: vigie parse under callgrind" >&2
        IR=$(cd "$FEEDDIR" && instructions /dev/null "$VIGIE" parse \
            $(cat "$W/first100.txt") && echo "$IR")
    fi
    WALL=$1 CPU=$2 RSS=$3
    row "vigie parse" "$HOW" "$n" "$IR"
fi

# --- sfeed, one process per file ----------------------------------------------
if command -v sfeed >/dev/null; then
    echo "parse: sfeed file by file ($REPEAT runs)" >&2
    best_of "$REPEAT" /dev/null \
        "cd '$FEEDDIR' && exec xargs sh '$W/sfeed-each.sh' <'$W/files.txt'"
    set -- "$WALL" "$CPU" "$RSS"
    n=$(cd "$FEEDDIR" && xargs sh "$W/sfeed-each.sh" <"$W/files.txt" | wc -l)
    check_items "sfeed (file by file)" "$n"
    WALL=$1 CPU=$2 RSS=$3
    row "sfeed, file by file" "$NFILES processes, stdin" "$n" ""

    echo "parse: sfeed on the stream ($REPEAT runs)" >&2
    best_of "$REPEAT" /dev/null "exec sfeed <'$ALL'"
    set -- "$WALL" "$CPU" "$RSS"
    n=$(sfeed <"$ALL" | wc -l)
    check_items "sfeed (stream)" "$n"
    IR=
    if cg; then
        echo "parse: sfeed under callgrind" >&2
        instructions "$A100" sfeed
    fi
    WALL=$1 CPU=$2 RSS=$3
    row "sfeed, concatenated" "1 process, all files on stdin" "$n" "$IR"
else
    note "sfeed: skipped: not installed (apt-get install sfeed)"
fi

# --- feedparser ----------------------------------------------------------------
if /usr/bin/python3 -c 'import feedparser' 2>/dev/null; then
    v=$(/usr/bin/python3 -c 'import feedparser; print(feedparser.__version__)')
    echo "parse: feedparser $v ($REPEAT_SLOW runs)" >&2
    best_of "$REPEAT_SLOW" "$W/fp.out" \
        "cd '$FEEDDIR' && exec xargs /usr/bin/python3 '$BENCH/fp_parse.py' <'$W/files.txt'"
    n=$(awk '$3 == "items" { s += $4 } END { print s }' "$W/fp.out")
    check_items feedparser "$n"
    row "feedparser $v" "$HOW" "$n" ""
else
    note "feedparser: skipped: /usr/bin/python3 has no feedparser" \
        "(apt-get install python3-feedparser)"
fi

# --- the libxml2 SAX floor ---------------------------------------------------
echo "parse: SAX floor ($REPEAT runs)" >&2
best_of "$REPEAT" /dev/null \
    "cd '$FEEDDIR' && exec xargs '$FLOOR' <'$W/files.txt'"
set -- "$WALL" "$CPU" "$RSS"
n=$(cd "$FEEDDIR" && xargs "$FLOOR" -c <"$W/files.txt" |
    awk '{ s += $NF } END { print s }')
check_items "SAX floor (item/entry tags)" "$n"
IR=
if cg; then
    echo "parse: SAX floor under callgrind" >&2
    IR=$(cd "$FEEDDIR" && instructions /dev/null "$FLOOR" \
        $(cat "$W/first100.txt") && echo "$IR")
fi
WALL=$1 CPU=$2 RSS=$3
row "libxml2 SAX floor" "$HOW" "$n" "$IR"

# --- the section -------------------------------------------------------------------
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
grep -q . "$NOTES" || echo "- every tool's item count agrees with the generator ($ITEMS)" >"$NOTES"
SECTION=$W/section.md
{
    echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(machine);" \
        "load average $LOAD0 before, $LOAD1 after."
    echo "Corpus: bench/corpus/$NAME, $NFILES feeds, $ITEMS items," \
        "$(fmt "$BYTES / 1e6") MB ($(manifest command))."
    echo "Reproduce: \`sh bench/parse.sh --feeds $FEEDS\`" \
        "(REPEAT=$REPEAT: the best wall time and the best CPU time of" \
        "$REPEAT runs, feedparser $REPEAT_SLOW; page cache warm)."
    if awk "BEGIN { exit !(${LOAD0%% *} > 1 || ${LOAD1%% *} > 1) }"; then
        echo
        echo "Other work shared the cores during this run (load average" \
            "above 1): wall times and MB/s are pessimistic, MB per CPU s" \
            "less so, instructions per byte not at all."
    fi
    echo
    echo "| tool | invocation | wall s | CPU s | MB/s | MB per CPU s | items | items/s | peak RSS MiB | instr/byte (first 100 feeds) |"
    echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    cat "$TABLE"
    echo
    echo "MB/s and items/s are over wall time; CPU is user+sys of the whole" \
        "process tree (MB per CPU s is the figure to trust when the load" \
        "average says other work shared the cores); peak RSS is the largest process. Instructions are" \
        "user-space, counted by \`valgrind --tool=callgrind\` on the first" \
        "100 feeds ($B100 bytes): the floor with the file names as arguments," \
        "sfeed on their concatenation, vigie with the file names."
    echo "Items are counted from each tool's output (vigie: its JSON," \
        "sfeed: TSV lines, feedparser: entries, floor: \`sax_floor -c\`" \
        "item/entry start tags)."
    echo
    cat "$NOTES"
} >"$SECTION"
write_section Parse "$SECTION"
echo "## Parse"
echo
cat "$SECTION"
