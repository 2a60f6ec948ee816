#!/bin/sh
# bench/run.sh — every benchmark section present, in order, on one corpus
# size. `make bench` runs it; each section writes its own "## ..." part of
# bench/RESULTS.md.
#
#   sh bench/run.sh [--feeds N] [SECTION...]
#
# N (or $FEEDS) is passed to every section; without it each section uses
# its own default (1,000 feeds; poll.sh: 1,000 and 10,000). SECTIONs
# (parse, match, store, poll) pick some; the default is every one whose
# bench/SECTION.sh exists. A failing section is reported and the others
# still run; the exit status says whether all passed.

cd "$(dirname "$0")/.." || exit 1
FEEDS=${FEEDS:-}
SECTIONS=
while [ $# -gt 0 ]; do
    case $1 in
    --feeds) FEEDS=$2; shift 2 ;;
    --feeds=*) FEEDS=${1#--feeds=}; shift ;;
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
    -*) echo "bench/run.sh: unknown option: $1" >&2; exit 2 ;;
    *) SECTIONS="$SECTIONS $1"; shift ;;
    esac
done
if [ -z "$SECTIONS" ]; then
    for s in parse match store poll; do
        [ -f "bench/$s.sh" ] && SECTIONS="$SECTIONS $s"
    done
fi

failed=
for s in $SECTIONS; do
    if [ ! -f "bench/$s.sh" ]; then
        echo "bench/run.sh: no section bench/$s.sh" >&2
        failed="$failed $s"
        continue
    fi
    echo "== bench/$s.sh${FEEDS:+ --feeds $FEEDS}" >&2
    sh "bench/$s.sh" ${FEEDS:+--feeds "$FEEDS"} || failed="$failed $s"
done
if [ -n "$failed" ]; then
    echo "bench/run.sh: failed:$failed" >&2
    exit 1
fi
echo "bench/run.sh: done; results in bench/RESULTS.md" >&2
