# bench/lib.sh — shared by the bench sections (parse.sh, match.sh, poll.sh,
# store.sh). Sourced, not run; POSIX sh. It gives:
#   bench_init "$@"        parses --feeds N (or $FEEDS), sets ROOT, BENCH,
#                          OUT (bench/out, ignored by git), FEEDS, NAME (1k,
#                          10k...), CORPUS (bench/corpus/NAME), PY
#   ensure_corpus          generates CORPUS if it is missing or stale
#   use_corpus             like ensure_corpus, but a corpus of the right
#                          size made by another gen_corpus.py is used as it
#                          is (REGEN=1 remakes it); sets CORPUS_NOTE then
#   manifest KEY           a number from CORPUS/manifest.json
#   machine                "nproc 2, AMD EPYC, Linux 6.1" (one line)
#   timed OUTFILE 'CMD'    runs CMD under sh -c and GNU time; sets WALL (s,
#                          from the clock), CPU (user+sys s), RSS (peak KiB,
#                          of the whole process tree), RC
#   best_of N OUTFILE 'CMD'   timed N times: WALL the best wall time, CPU
#                          the best CPU time (each of its own run: on shared
#                          cores they are not always the same run), RSS the
#                          largest seen
#   instructions IN CMD ARG...  user-space instructions of CMD (stdin from
#                          IN) under callgrind (sets IR, empty on failure)
#   write_section HEADING FILE   replaces the "## HEADING" section of
#                          bench/RESULTS.md with FILE's text, keeping the rest
#   fmt EXPR               awk arithmetic, printed with sensible precision

set -u

bench_init() {
    ROOT=$(cd "$(dirname "$0")/.." && pwd)
    BENCH=$ROOT/bench
    OUT=$ROOT/bench/out
    PY=/usr/bin/python3
    [ -x "$PY" ] || PY=python3
    FEEDS=${FEEDS:-1000}
    while [ $# -gt 0 ]; do
        case $1 in
        --feeds) FEEDS=$2; shift 2 ;;
        --feeds=*) FEEDS=${1#--feeds=}; shift ;;
        -h|--help)
            echo "usage: $0 [--feeds N]   (default 1000; also \$FEEDS)"
            exit 0 ;;
        *) echo "$0: unknown argument: $1" >&2; exit 2 ;;
        esac
    done
    case $FEEDS in
    ''|*[!0-9]*) echo "$0: --feeds: not a number: $FEEDS" >&2; exit 2 ;;
    esac
    if [ $((FEEDS % 1000)) -eq 0 ]; then NAME=$((FEEDS / 1000))k
    else NAME=$FEEDS; fi
    CORPUS=$BENCH/corpus/$NAME
    mkdir -p "$OUT"
    if [ ! -x /usr/bin/time ]; then
        echo "bench: installing GNU time (/usr/bin/time)" >&2
        apt-get install -y time >/dev/null 2>&1 ||
            { echo "bench: /usr/bin/time missing: apt-get install -y time" >&2
              exit 1; }
    fi
}

# The corpus is made once per size; a manifest from another size or another
# gen_corpus.py means regenerate.
ensure_corpus() {
    if [ -f "$CORPUS/manifest.json" ] &&
       [ "$(manifest feeds)" = "$FEEDS" ] &&
       [ "$(manifest generator_sha256)" = \
         "$(sha256sum <"$BENCH/gen_corpus.py" | cut -d' ' -f1)" ]
    then
        return 0
    fi
    echo "bench: generating $CORPUS ($FEEDS feeds)" >&2
    (cd "$ROOT" && "$PY" bench/gen_corpus.py --feeds "$FEEDS" \
        --out "bench/corpus/$NAME") || exit 1
}

# Regenerating 10,000 feeds takes minutes, and the corpus may be shared
# with other checkouts (bench/corpus can be a symlink): a change to the
# generator that keeps its output (the manifest says which one made it)
# need not cost that.
use_corpus() {
    CORPUS_NOTE=
    if [ "${REGEN:-0}" != 1 ] && [ -f "$CORPUS/manifest.json" ] &&
       [ "$(manifest feeds)" = "$FEEDS" ]; then
        [ "$(manifest generator_sha256)" = \
          "$(sha256sum <"$BENCH/gen_corpus.py" | cut -d' ' -f1)" ] ||
            CORPUS_NOTE="bench/corpus/$NAME was made by another version of gen_corpus.py; used as it is (REGEN=1 remakes it)"
    else
        ensure_corpus
    fi
}

manifest() {
    "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
        "$CORPUS/manifest.json" "$1"
}

machine() {
    cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
    echo "nproc $(nproc), ${cpu:-unknown CPU}, $(uname -sr)," \
        "$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
}

fmt() {
    awk "BEGIN { v = $1; if (v >= 100) printf \"%.0f\n\", v;
                 else if (v >= 10) printf \"%.1f\n\", v;
                 else printf \"%.2f\n\", v }"
}

timed() {
    _out=$1 _cmd=$2
    _t=$OUT/.time.$$
    _t0=$(date +%s%N)
    /usr/bin/time -f '%U %S %M' -o "$_t" sh -c "$_cmd" >"$_out"
    RC=$?
    _t1=$(date +%s%N)
    WALL=$(awk "BEGIN { printf \"%.3f\", ($_t1 - $_t0) / 1e9 }")
    # GNU time writes "Command exited with non-zero status N" first then
    set -- $(tail -n 1 "$_t")
    CPU=$(awk "BEGIN { printf \"%.3f\", $1 + $2 }")
    RSS=$3
    rm -f "$_t"
}

best_of() {
    _n=$1 _o=$2 _c=$3
    _bw='' _bc='' _br=0 _rc=0
    _i=0
    while [ $_i -lt "$_n" ]; do
        timed "$_o" "$_c"
        [ $RC -ne 0 ] && _rc=$RC
        if [ -z "$_bw" ] || awk "BEGIN { exit !($WALL < $_bw) }"; then
            _bw=$WALL
        fi
        if [ -z "$_bc" ] || awk "BEGIN { exit !($CPU < $_bc) }"; then
            _bc=$CPU
        fi
        [ "$RSS" -gt "$_br" ] && _br=$RSS
        _i=$((_i + 1))
    done
    WALL=$_bw CPU=$_bc RSS=$_br RC=$_rc
}

instructions() {
    _log=$OUT/.callgrind.$$ _in=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$@" >/dev/null 2>"$_log" <"$_in"
    IR=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$_log" |
         tail -n 1)
    [ -n "$IR" ] || sed 's/^/    /' "$_log" | tail -n 5 >&2
    rm -f "$_log"
}

write_section() {
    "$PY" - "$BENCH/RESULTS.md" "$1" "$2" <<'EOF'
import os, sys
path, heading, body = sys.argv[1], "## " + sys.argv[2], open(sys.argv[3]).read()
lines = open(path).read().splitlines(True) if os.path.exists(path) else \
    ["# vigie benchmarks\n", "\n",
     "Written by `make bench` (bench/run.sh); each section by its script.\n"]
out, i, done = [], 0, False
while i < len(lines):
    if lines[i].rstrip("\n") == heading:
        i += 1
        while i < len(lines) and not lines[i].startswith("## "):
            i += 1
        out.append(heading + "\n\n" + body.rstrip("\n") + "\n\n")
        done = True
        continue
    out.append(lines[i])
    i += 1
if not done:
    if out and not out[-1].endswith("\n\n"):
        out.append("\n")
    out.append(heading + "\n\n" + body.rstrip("\n") + "\n")
text = "".join(out).rstrip("\n") + "\n"
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
EOF
}
