#!/bin/sh
# bench/match.sh — keyword matching on one corpus, in one run:
#   1. the matcher alone (bench/match_bench.c): 10, 1,000 and 10,000
#      keywords, on its generated text and on the corpus's titles and
#      summaries with the corpus's keyword lists; MB/s of CPU time, the
#      10,000/10 time ratio, instructions per byte under callgrind
#   2. parse + match end to end with the 50-keyword list: `vigie test` with
#      a generated rule, `sfeed | grep -a -i -F -f`, feedparser + one folded
#      `re` (bench/fp_match.py); MB/s, and recall and precision against the
#      generator's truth.jsonl (bench/match_score.py), per writing form too
#   3. items per second through a trivial on_item and scripts/balkans.lua:
#      `vigie test` on the corpus next to `vigie parse` on the same files,
#      and bench/worker_bench.c (the rule worker alone)
# Writes the "## Match" section of bench/RESULTS.md and prints it.
#
#   sh bench/match.sh [--feeds N]      (default 1000; the corpus is
#                                       generated under bench/corpus/ if absent)
# Environment: VIGIE (default build/vigie), REPEAT (timed runs per tool, the
# best is kept; default 3), REPEAT_SLOW (feedparser; default 1), MB (size of
# match_bench's generated text; default 50), CALLGRIND=0 to skip the
# instruction counts.

. "$(dirname "$0")/lib.sh"
bench_init "$@"
ensure_corpus

REPEAT=${REPEAT:-3}
REPEAT_SLOW=${REPEAT_SLOW:-1}
CALLGRIND=${CALLGRIND:-1}
MB=${MB:-50}
VIGIE=${VIGIE:-$ROOT/build/vigie}
case $VIGIE in /*) ;; *) VIGIE=$ROOT/$VIGIE ;; esac
FEEDDIR=$CORPUS/feeds
K50=$CORPUS/keywords-50.txt
W=$OUT/match-$NAME
mkdir -p "$W" "$ROOT/build/bench"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
BYTES=$(manifest bytes)
ITEMS=$(manifest items)

(cd "$FEEDDIR" && ls | grep '\.xml$') >"$W/files.txt"
NFILES=$(wc -l <"$W/files.txt")
NBATCH=$(cd "$FEEDDIR" && xargs sh -c 'echo' sh <"$W/files.txt" | wc -l)
if [ "$NBATCH" -eq 1 ]; then HOW="1 process"; else HOW="xargs: $NBATCH processes"; fi

NOTES=$W/notes.md
: >"$NOTES"
note() { printf -- '- %s\n' "$*" >>"$NOTES"; printf 'match: %s\n' "$*" >&2; }
cg() { [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; }

if [ ! -x "$VIGIE" ]; then
    echo "match: $VIGIE does not exist (make)" >&2
    exit 1
fi

# --- builds (bench-only binaries, rebuilt when a source changes) -----------
LIB=$ROOT/build/libvigie.a
newer() { [ ! -x "$1" ] || [ "$2" -nt "$1" ] || [ "$LIB" -nt "$1" ]; }
CCB="${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -I$ROOT/daemon"
MBENCH=$ROOT/build/bench/match_bench
WBENCH=$ROOT/build/bench/worker_bench
NOSEC=$ROOT/build/bench/vigie-noseccomp
if newer "$MBENCH" "$BENCH/match_bench.c"; then
    $CCB "$BENCH/match_bench.c" "$LIB" $(pkg-config --libs libutf8proc) \
        -o "$MBENCH" || exit 1
fi
if newer "$WBENCH" "$BENCH/worker_bench.c"; then
    $CCB $(pkg-config --cflags lua5.4) "$BENCH/worker_bench.c" "$LIB" \
        $(pkg-config --libs lua5.4 libutf8proc jansson libxml-2.0) -lm \
        -o "$WBENCH" || exit 1
fi
# vigie with the rule worker's seccomp filter off: used only when the stock
# binary cannot run a rule (see bench/noseccomp.c), and said so.
build_nosec() {
    if newer "$NOSEC" "$BENCH/noseccomp.c" ||
       [ "$ROOT/build/obj/main.o" -nt "$NOSEC" ]; then
        $CCB $(pkg-config --cflags lua5.4) -c "$BENCH/noseccomp.c" \
            -o "$W/noseccomp.o" &&
        ${CC:-cc} -o "$NOSEC" "$ROOT/build/obj/main.o" "$W/noseccomp.o" \
            -Wl,--wrap=worker_opts_default "$LIB" \
            $(pkg-config --libs libcurl libxml-2.0 lua5.4 sqlite3 libutf8proc \
              jansson libcrypto) -lev -lm
    fi
}

# tester RULE — sets VT to a vigie that can run RULE: the stock binary if
# `vigie test` runs it on the first feed without an error action, else the
# no-seccomp build (with a note saying why). VT is empty if neither can.
first=$(head -n 1 "$W/files.txt")
tester() {
    VT=$VIGIE
    if (cd "$FEEDDIR" && "$VIGIE" test -s "$1" "$first") >"$W/probe.out" \
            2>"$W/probe.err"; then
        return 0
    fi
    why=$(grep -m 1 '^vigie: test:' "$W/probe.err" | cut -c1-200)
    VT=
    build_nosec || { note "$(basename "$1"): stock vigie fails ($why)" \
        "and the no-seccomp build did not build"; return 1; }
    if (cd "$FEEDDIR" && "$NOSEC" test -s "$1" "$first") >/dev/null \
            2>"$W/probe.err"; then
        VT=$NOSEC
        diag=
        case $why in
        *"signal 31"*) diag=" (SIGSYS: the worker made a system call its\
 seccomp filter does not allow; glibc's qsort() on more than 1 KiB asks\
 sysinfo(2) for the memory size)" ;;
        esac
        note "**$(basename "$1"): the stock \`vigie test\` fails on" \
            "$first: \`$why\`$diag**; measured with build/bench/vigie-noseccomp" \
            "(bench/noseccomp.c: the same code, the worker's seccomp filter" \
            "off)."
    else
        note "$(basename "$1"): \`vigie test\` fails, with or without" \
            "seccomp: $(grep -m 1 '^vigie' "$W/probe.err" | cut -c1-200)"
    fi
}

# test_summary FILE — "N items, M actions ..., E errors" from stderr.
test_summary() {
    sed -n 's/^vigie test: //p' "$1" | tail -n 1
}

# The stream for sfeed (made once, outside the timing) and the warm cache.
ALL=$W/all.xml
if [ ! -f "$ALL" ] || [ "$CORPUS/manifest.json" -nt "$ALL" ]; then
    (cd "$FEEDDIR" && xargs cat <"$W/files.txt") >"$ALL"
fi
cat "$ALL" >/dev/null
(cd "$FEEDDIR" && xargs cat <"$W/files.txt" >/dev/null)

# --- 1. the matcher alone ----------------------------------------------------
# The corpus's text as vigie's parser gives it: title "\n" summary per item.
TEXT=$W/text.txt
if [ ! -f "$TEXT" ] || [ "$CORPUS/manifest.json" -nt "$TEXT" ] ||
   [ "$VIGIE" -nt "$TEXT" ]; then
    (cd "$FEEDDIR" && xargs "$VIGIE" parse <"$W/files.txt") | "$PY" -c '
import json, sys
out = open(sys.argv[1], "w", encoding="utf-8")
for line in sys.stdin:
    for it in json.loads(line).get("items", []):
        out.write(it.get("title", "") + "\n" + it.get("summary", "") + "\n\n")
' "$TEXT" || exit 1
fi
TBYTES=$(wc -c <"$TEXT")
echo "match: match_bench, generated text ($MB MB)" >&2
(cd "$ROOT" && "$MBENCH" "$MB") >"$W/mb-gen.txt" || note "match_bench failed"
echo "match: match_bench, corpus text" >&2
(cd "$ROOT" && "$MBENCH" -t "$TEXT" -k "$CORPUS/keywords-10.txt" \
    -k "$CORPUS/keywords-1000.txt" -k "$CORPUS/keywords-10000.txt") \
    >"$W/mb-corpus.txt" || note "match_bench -t failed"

# instructions per byte of matcher_scan, on the first 4 MB of the text
IRB10= IRB1000= IRB10000=
if cg; then
    head -c 4000000 "$TEXT" >"$W/text4.txt"
    for n in 10 1000 10000; do
        echo "match: match_bench --once under callgrind ($n keywords)" >&2
        valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
            "$MBENCH" --once -t "$W/text4.txt" -k "$CORPUS/keywords-$n.txt" \
            >/dev/null 2>&1
        ir=$(callgrind_annotate --inclusive=yes "$W/cg.out" 2>/dev/null |
             awk '$NF ~ /:matcher_scan$/ { gsub(",", "", $1); print $1; exit }')
        rm -f "$W/cg.out"
        [ -n "$ir" ] && eval "IRB$n=\$(fmt \"$ir / 4000000\")"
    done
fi

# mb_rows FILE TEXTNAME — table rows from match_bench's output; sets RATIO
mb_rows() {
    awk -v t="$2" -v i10="$IRB10" -v i1k="$IRB1000" -v i10k="$IRB10000" '
        / keywords: build / {
            # "   10 keywords: build 0.2 ms; scan 381 MB/s (6480 hits);
            #  2 KiB items 373 MB/s (6251 keyword hits)"
            n = $1; b = $4; s = $7; h = $9; gsub(/\(/, "", h); it = $14
            ir = "-"
            if (t ~ /corpus/) ir = (n == 10 ? i10 : n == 1000 ? i1k : n == 10000 ? i10k : "-")
            if (ir == "") ir = "-"
            printf "| %s | %s | %s | %s | %s | %s | %s |\n", t, n, b, s, h, it, ir
        }' "$1"
}
ratio() {
    awk '/ keywords: build / { s[$1] = $7 }
         END { if (s[10000] > 0) printf "%.2f", s[10] / s[10000]; else print "-" }' "$1"
}
FOLDGEN=$(sed -n 's/^fold_text alone: \([0-9]*\) MB\/s/\1/p' "$W/mb-gen.txt")
FOLDCOR=$(sed -n 's/^fold_text alone: \([0-9]*\) MB\/s/\1/p' "$W/mb-corpus.txt")

# --- 2. parse + match, end to end ---------------------------------------------
RULE=$W/keywords-50.lua
"$PY" - "$K50" "$RULE" <<'EOF'
import sys
kws = [l.strip() for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
q = lambda k: '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'
open(sys.argv[2], "w", encoding="utf-8").write(
    "-- generated by bench/match.sh from %s\n"
    "local m = vigie.keywords{%s}\n"
    "function on_item(it)\n"
    "  local hits = m:match(it.title .. \"\\n\" .. it.summary)\n"
    "  if #hits > 0 then vigie.alert(\"bench\", {keywords = hits}) end\n"
    "end\n" % (sys.argv[1].rsplit("/", 1)[-1], ", ".join(map(q, kws))))
EOF
SPEED=$W/speed.tsv
: >"$SPEED"
SCORE_ARGS=
speed() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$WALL" "$CPU" "$RSS" "$2" "$3" >>"$SPEED"; }

tester "$RULE"
VT_E2E=$VT
if [ -n "$VT" ]; then
    echo "match: vigie test, 50 keywords ($REPEAT runs)" >&2
    best_of "$REPEAT" "$W/vigie.jsonl" \
        "cd '$FEEDDIR' && exec xargs '$VT' test -s '$RULE' <'$W/files.txt' 2>'$W/vigie.err'"
    [ "$RC" -ne 0 ] && note "vigie test (50 keywords): exit status $RC:" \
        "$(test_summary "$W/vigie.err")"
    speed vigie "vigie test$([ "$VT" = "$NOSEC" ] && echo ' (no seccomp)')" \
        "$HOW and its rule worker, \`-s keywords-50.lua\`"
    SCORE_ARGS="--vigie $W/vigie.jsonl"
    E2E_SUMMARY=$(test_summary "$W/vigie.err")
fi

if command -v sfeed >/dev/null; then
    echo "match: sfeed | grep ($REPEAT runs)" >&2
    best_of "$REPEAT" "$W/grep.out" \
        "sfeed <'$ALL' | LC_ALL=C.UTF-8 grep -a -i -F -f '$K50'"
    speed grep "sfeed \\| grep -a -i -F -f" \
        "2 processes (a pipe), the files concatenated on stdin"
    sfeed <"$ALL" >"$W/sfeed.tsv"
    LC_ALL=C.UTF-8 grep -n -a -i -F -f "$K50" "$W/sfeed.tsv" |
        cut -d: -f1 >"$W/grep.lines"
    LC_ALL=C.UTF-8 grep -n -o -a -i -F -f "$K50" "$W/sfeed.tsv" >"$W/grep.only"
    GREP_NOA=$(LC_ALL=C.UTF-8 grep -i -F -f "$K50" "$W/sfeed.tsv" 2>/dev/null |
               wc -l)
    GREP_BIN=$(LC_ALL=C.UTF-8 grep -c -a -v -x '.*' "$W/sfeed.tsv")
    SCORE_ARGS="$SCORE_ARGS --grep $W/sfeed.tsv $W/grep.lines $W/grep.only"
else
    note "sfeed: skipped: not installed (apt-get install sfeed)"
fi

if /usr/bin/python3 -c 'import feedparser' 2>/dev/null; then
    v=$(/usr/bin/python3 -c 'import feedparser; print(feedparser.__version__)')
    echo "match: feedparser $v + re ($REPEAT_SLOW runs)" >&2
    best_of "$REPEAT_SLOW" "$W/fp.jsonl" \
        "cd '$FEEDDIR' && exec xargs /usr/bin/python3 '$BENCH/fp_match.py' '$K50' <'$W/files.txt'"
    [ "$RC" -ne 0 ] && note "fp_match.py: exit status $RC"
    speed fp "feedparser $v + re" "$HOW, bench/fp_match.py"
    SCORE_ARGS="$SCORE_ARGS --fp $W/fp.jsonl"
else
    note "feedparser: skipped: /usr/bin/python3 has no feedparser" \
        "(apt-get install python3-feedparser)"
fi

echo "match: scoring against truth.jsonl" >&2
"$PY" "$BENCH/match_score.py" --truth "$CORPUS/truth.jsonl" --keywords "$K50" \
    --bytes "$BYTES" --speed "$SPEED" --out "$W" $SCORE_ARGS || exit 1

# --- 3. items per second ---------------------------------------------------------
IPS=$W/ips.md
: >"$IPS"
echo "match: vigie parse ($REPEAT runs)" >&2
best_of "$REPEAT" /dev/null \
    "cd '$FEEDDIR' && exec xargs '$VIGIE' parse <'$W/files.txt'"
PW=$WALL PC=$CPU
# ips_row WHAT INPUT ITEMS NET — one table line from WALL, CPU, RSS
ips_row() {
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" \
        "$WALL" "$CPU" "$(fmt "$3 / $WALL")" "$(fmt "$3 / $CPU")" "$4" \
        "$(fmt "$RSS / 1024")" >>"$IPS"
}
ips_row "vigie parse (no rule)" "the corpus, $HOW" "$ITEMS" "- | -"

# net — items/s once the parse time is taken off (wall, then CPU)
net() {
    awk -v n="$ITEMS" -v w="$WALL" -v c="$CPU" -v pw="$PW" -v pc="$PC" 'BEGIN {
        f = "%.0f"
        if (w > pw) printf f, n / (w - pw); else printf "-"
        printf " | "
        if (c > pc) printf f, n / (c - pc); else printf "-"
    }'
}
# The trivial rule once more without seccomp when that build was needed
# above: what the filter costs, so the no-seccomp figures can be judged.
RULES="$BENCH/rules/trivial.lua $ROOT/scripts/balkans.lua"
[ "$VT_E2E" = "$NOSEC" ] && RULES="$RULES nosec:$BENCH/rules/trivial.lua"
for r in $RULES; do
    case $r in
    nosec:*) r=${r#nosec:}; VT=$NOSEC ;;
    *) tester "$r" ;;
    esac
    rn=$(basename "$r")
    [ -n "$VT" ] || continue
    echo "match: vigie test -s $rn ($REPEAT runs)" >&2
    best_of "$REPEAT" "$W/ips.out" \
        "cd '$FEEDDIR' && exec xargs '$VT' test -s '$r' <'$W/files.txt' 2>'$W/ips.err'"
    [ "$RC" -ne 0 ] && note "vigie test -s $rn: exit status $RC:" \
        "$(test_summary "$W/ips.err")"
    ips_row "vigie test -s $rn$([ "$VT" = "$NOSEC" ] && echo ' (no seccomp)')" \
        "the corpus, $HOW and its rule worker; $(test_summary "$W/ips.err" |
            sed 's/^[0-9]* items, //')" "$ITEMS" "$(net)"
done
rm -f "$W/ips.out"

# worker_bench prints its best wall time of 3 runs; GNU time gives the CPU
# of the whole process tree (worker included), for the 3 runs, the warm-up
# and making the items: CPU s below is that total over 3, an upper bound.
WB_ITEMS=200000
for spec in "trivial 1000" "trivial 60" "balkans 1000"; do
    set -- $spec
    if [ "$1" = trivial ]; then s=""; sn="a trivial on_item"
    else s=scripts/balkans.lua; sn=balkans.lua; fi
    echo "match: worker_bench $sn, batches of $2" >&2
    timed "$W/wb.out" "cd '$ROOT' && exec '$WBENCH' '$s' $WB_ITEMS $2 2>&1"
    out=$(tail -n 1 "$W/wb.out")
    ms=$(echo "$out" | sed -n 's/.*: best \([0-9]*\) ms, \([0-9]*\) items\/s.*/\1/p')
    if [ -z "$ms" ] || [ "$RC" -ne 0 ]; then
        note "worker_bench $sn: $(echo "$out" | cut -c1-200)"
        continue
    fi
    WALL=$(awk "BEGIN { printf \"%.3f\", $ms / 1000 }")
    CPU=$(awk "BEGIN { printf \"%.3f\", $CPU / 3 }")
    ips_row "worker_bench, $sn" \
        "synthetic items (2.5 KiB of text), batches of $2" "$WB_ITEMS" "- | -"
done

# --- the section -----------------------------------------------------------------------
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
SECTION=$W/section.md
# printf, not echo: dash's echo would turn "\n" and "\b" into controls
say() { printf '%s\n' "$*"; }
{
    say "Date: $(date -u '+%Y-%m-%d %H:%M UTC'). Machine: $(machine);" \
        "load average $LOAD0 before, $LOAD1 after."
    say "Corpus: bench/corpus/$NAME, $NFILES feeds, $ITEMS items," \
        "$(fmt "$BYTES / 1e6") MB ($(manifest command))."
    env=
    [ "$REPEAT" != 3 ] && env="REPEAT=$REPEAT "
    [ "$REPEAT_SLOW" != 1 ] && env="${env}REPEAT_SLOW=$REPEAT_SLOW "
    say "Reproduce: \`make && ${env}sh bench/match.sh --feeds $FEEDS\`" \
        "(REPEAT=$REPEAT: the best wall time and the best CPU time of" \
        "$REPEAT runs, feedparser $REPEAT_SLOW; page cache warm). Work files," \
        "the generated rule and every tool's output stay in bench/out/match-$NAME/."
    if awk "BEGIN { exit !(${LOAD0%% *} > 1 || ${LOAD1%% *} > 1) }"; then
        say
        say "Other work shared the cores during this run (load average" \
            "above 1): wall times are pessimistic; CPU-time figures and" \
            "instructions per byte much less so."
    fi
    if grep -q . "$NOTES"; then
        say
        sed "s|$ROOT/||g" "$NOTES"
    fi
    say
    say "### The matcher alone"
    say
    say "\`build/bench/match_bench $MB\` (its own generated text, $MB MiB) and" \
        "\`build/bench/match_bench -t bench/out/match-$NAME/text.txt -k" \
        "keywords-10.txt -k keywords-1000.txt -k keywords-10000.txt\` (the" \
        "corpus's title \"\\n\" summary per item from \`vigie parse\`," \
        "$(fmt "$TBYTES / 1e6") MB; its 1,000 and 10,000 lists add names that" \
        "occur nowhere). MB/s of CPU time, best of 3: \`scan\` is one" \
        "matcher_scan over the whole text (every occurrence), \`2 KiB" \
        "items\` matcher_match on 2 KiB slices (distinct keywords)." \
        "Instructions per byte: matcher_scan's inclusive count under" \
        "callgrind on the first 4 MB of the corpus text." \
        "fold_text alone: ${FOLDGEN:-?} MB/s (generated), ${FOLDCOR:-?} MB/s (corpus)."
    say
    say "| text | keywords | build ms | scan MB/s | occurrences | 2 KiB items MB/s | instr/byte |"
    say "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    mb_rows "$W/mb-gen.txt" "generated"
    mb_rows "$W/mb-corpus.txt" "corpus"
    say
    say "Time with 10,000 keywords over time with 10 (scan; target within" \
        "2x): $(ratio "$W/mb-gen.txt") on the generated text," \
        "$(ratio "$W/mb-corpus.txt") on the corpus text."
    say
    say "### Parse + match, end to end (50 keywords)"
    say
    say "Input: the $NFILES feed files ($(fmt "$BYTES / 1e6") MB); MB/s are" \
        "of feed bytes. vigie: \`cd $(echo "$FEEDDIR" | sed "s|^$ROOT/||") &&" \
        "xargs build/vigie test -s bench/out/match-$NAME/keywords-50.lua" \
        "< files.txt\`, the rule generated from keywords-50.txt" \
        "(\`vigie.keywords{...}\`, \`m:match(it.title .. \"\\n\" .." \
        "it.summary)\`, one \`vigie.alert\` with the hits)${E2E_SUMMARY:+; $E2E_SUMMARY}." \
        "sfeed + grep: \`sfeed < all.xml | grep -a -i -F -f keywords-50.txt\`" \
        "(all files concatenated; C.UTF-8; \`-a\` because sfeed passes the" \
        "windows-1252 feeds through unconverted and without it grep" \
        "suppresses those lines: ${GREP_NOA:-?} lines selected instead of" \
        "$(wc -l <"$W/grep.lines" 2>/dev/null || echo '?'), ${GREP_BIN:-?} lines" \
        "not UTF-8). feedparser + re: \`xargs python3 bench/fp_match.py" \
        "keywords-50.txt < files.txt\` (see its docstring: fp_parse.plain" \
        "text, NFKD, marks dropped, casefold, one \`\\b(?=(...)\\b)\`" \
        "alternation, re.I)."
    say
    say "Recall and precision are per (item, keyword) against" \
        "truth.jsonl (bench/match_score.py): vigie from its alert actions" \
        "(item.id, payload.keywords), grep from \`grep -n -o\` (the keyword" \
        "equal, ignoring case, to each match), feedparser from fp_match.py." \
        "Item recall and precision: an item selected (an alert, a line" \
        "grep printed, a keyword found) or not, against \"has a keyword\"." \
        "The figure for one core is MB per CPU s (CPU = user + sys of every" \
        "process: vigie test's parent and rule worker, sfeed and grep)."
    say
    cat "$W/table.md"
    say
    say "Recall per writing form (pairs of items whose keywords were all" \
        "planted in that one form; truth.jsonl does not say which keyword" \
        "had which form when there are several):"
    say
    cat "$W/forms.md"
    say
    cat "$W/misses.md"
    say
    say "### Items per second"
    say
    say "\`vigie test -s RULE\` on the whole corpus (one worker job per" \
        "feed, about $((ITEMS / NFILES)) items), next to \`vigie parse\`" \
        "on the same files; \"net of parse\" divides the items by the" \
        "difference of the two times (wall, then CPU). worker_bench" \
        "(bench/worker_bench.c) times the rule worker alone (encoding," \
        "socket, Lua item table, call, results; wall, best of 3) on" \
        "synthetic items whose text matches nothing; its CPU s is the" \
        "whole process tree's over its 3 runs (setup included) divided by" \
        "3. Target: 200,000 items/s through a trivial rule."
    say
    say "| what | input | items | wall s | CPU s | items/s | items per CPU s | items/s net of parse (wall) | items per CPU s net of parse | peak RSS MiB |"
    say "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    cat "$IPS"
} >"$SECTION"
write_section Match "$SECTION"
echo "## Match"
echo
cat "$SECTION"
