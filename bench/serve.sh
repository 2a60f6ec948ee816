#!/bin/sh
# bench/serve.sh — a local nginx serving a bench corpus (bench/nginx.conf).
#
#   sh bench/serve.sh start [DIR] [PORT]   serve DIR (default bench/corpus/1k)
#                                          on 127.0.0.1:PORT (default 18089)
#   sh bench/serve.sh stop [PORT]
#   sh bench/serve.sh selftest [PORT]      start, check 200 + ETag and a 304
#                                          for If-None-Match, stop
#
# A feed is then http://127.0.0.1:PORT/feeds/NNNN.xml, as in the corpus's
# feeds.opml and urls.txt (made for port 18089; another port: sed them).
# nginx runs as the current user; its pid, logs and temp files live in
# ${TMPDIR:-/tmp}/vigie-bench-nginx-UID-PORT, removed by stop.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_PORT=18089

state() { echo "${TMPDIR:-/tmp}/vigie-bench-nginx-$(id -u)-$1"; }

nginx_bin() {
    for n in nginx /usr/sbin/nginx; do
        command -v "$n" >/dev/null 2>&1 && { command -v "$n"; return 0; }
    done
    echo "serve.sh: nginx not found (apt-get install -y nginx)" >&2
    return 1
}

running() {
    [ -f "$1/nginx.pid" ] && kill -0 "$(cat "$1/nginx.pid")" 2>/dev/null
}

start() {
    dir=${1:-$ROOT/bench/corpus/1k}
    port=${2:-$DEFAULT_PORT}
    case $port in ''|*[!0-9]*) echo "serve.sh: bad port: $port" >&2; return 2 ;; esac
    [ -d "$dir" ] || { echo "serve.sh: $dir: no such directory" \
        "(make a corpus: bench/gen_corpus.py)" >&2; return 1; }
    dir=$(cd "$dir" && pwd)
    nginx=$(nginx_bin) || return 1
    tmp=$(state "$port")
    if running "$tmp"; then
        echo "serve.sh: already running on port $port (pid $(cat "$tmp/nginx.pid"))" >&2
        return 1
    fi
    rm -rf "$tmp"
    mkdir -p "$tmp" || return 1
    if [ "$(id -u)" -eq 0 ]; then
        user="user $(id -un) $(id -gn);"
    else
        user="# not root: workers run as $(id -un) anyway"
    fi
    sed -e "s|@PORT@|$port|g" -e "s|@ROOT@|$dir|g" -e "s|@TMP@|$tmp|g" \
        -e "s|@USER@|$user|g" "$ROOT/bench/nginx.conf" >"$tmp/nginx.conf"
    if ! "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log" \
            2>"$tmp/start.err"; then
        echo "serve.sh: nginx did not start:" >&2
        cat "$tmp/start.err" "$tmp/error.log" 2>/dev/null | tail -n 5 >&2
        return 1
    fi
    # nginx forks into the background; wait until it answers.
    i=0
    while [ $i -lt 50 ]; do
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            echo "serve.sh: serving $dir on http://127.0.0.1:$port/" \
                "(pid $(cat "$tmp/nginx.pid"), state in $tmp)"
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    echo "serve.sh: nginx does not answer on port $port" >&2
    stop "$port"
    return 1
}

stop() {
    port=${1:-$DEFAULT_PORT}
    tmp=$(state "$port")
    if ! running "$tmp"; then
        echo "serve.sh: nothing running on port $port" >&2
        rm -rf "$tmp"
        return 0
    fi
    pid=$(cat "$tmp/nginx.pid")
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "serve.sh: nginx (pid $pid) did not stop" >&2
        return 1
    fi
    rm -rf "$tmp"
    echo "serve.sh: stopped nginx on port $port"
}

selftest() {
    port=${1:-$DEFAULT_PORT}
    dir=$(mktemp -d)
    mkdir -p "$dir/feeds"
    printf '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>\n' \
        >"$dir/feeds/0000.xml"
    start "$dir" "$port" || { rm -rf "$dir"; return 1; }
    url=http://127.0.0.1:$port/feeds/0000.xml
    ok=1
    h=$(curl -s -D - -o "$dir/got" "$url")
    code=$(echo "$h" | sed -n '1s/^HTTP[^ ]* \([0-9]*\).*/\1/p')
    etag=$(echo "$h" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
    lm=$(echo "$h" | tr -d '\r' | sed -n 's/^[Ll]ast-[Mm]odified: //p')
    ctype=$(echo "$h" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
    echo "GET: $code, ETag $etag, Content-Type $ctype"
    [ "$code" = 200 ] && [ -n "$etag" ] && cmp -s "$dir/got" "$dir/feeds/0000.xml" || ok=0
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url")
    echo "GET with If-None-Match: $code"
    [ "$code" = 304 ] || ok=0
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-Modified-Since: $lm" "$url")
    echo "GET with If-Modified-Since: $code"
    [ "$code" = 304 ] || ok=0
    code=$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "nope"' "$url")
    echo "GET with a stale ETag: $code"
    [ "$code" = 200 ] || ok=0
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/feeds/none.xml")
    echo "GET of a missing file: $code"
    [ "$code" = 404 ] || ok=0
    stop "$port"
    rm -rf "$dir"
    if [ $ok = 1 ]; then echo "serve.sh: selftest passed"; return 0; fi
    echo "serve.sh: selftest FAILED" >&2
    return 1
}

case ${1:-} in
start) shift; start "$@" ;;
stop) shift; stop "$@" ;;
selftest) shift; selftest "$@" ;;
*) sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
