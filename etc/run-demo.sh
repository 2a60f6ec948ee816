#!/bin/sh
# make run: the offline demo. Starts a small webhook receiver on 127.0.0.1
# that prints what it gets, then the daemon in the foreground on the
# bundled sample feeds (etc/vigie.lua) with a fresh state directory, so the
# Balkans rule alerts at once: in the log, and through the receiver.
# Ctrl-C stops both.
set -u
bin=${1:-build/vigie}
state=$(pwd)/build/demo-state
port=${VIGIE_DEMO_PORT:-8808}

if ! command -v python3 >/dev/null 2>&1; then
    echo "vigie: make run: python3 is needed for the demo's webhook receiver" >&2
    exit 1
fi
rm -rf "$state"
mkdir -p "$state"
ready=$state/receiver.ready
python3 tools/webhook-receiver.py --port "$port" --ready-file "$ready" &
receiver=$!
trap 'kill $receiver 2>/dev/null; wait $receiver 2>/dev/null' EXIT
# Ctrl-C reaches the daemon too, which stops cleanly; we then just exit.
trap ':' INT TERM
i=0
while [ ! -e "$ready" ]; do
    if ! kill -0 $receiver 2>/dev/null || [ $i -ge 100 ]; then
        echo "vigie: make run: the webhook receiver did not start (port $port taken?);" \
             "try: make run VIGIE_DEMO_PORT=8809" >&2
        exit 1
    fi
    sleep 0.1
    i=$((i + 1))
done
echo "vigie: demo: polling feeds/samples/*.xml with scripts/balkans.lua; Ctrl-C stops" >&2
STATE_DIRECTORY=$state VIGIE_DEMO=1 VIGIE_ANALYST_URL="http://127.0.0.1:$port/analyst" \
    "$bin" run -c etc/vigie.lua
