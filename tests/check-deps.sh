#!/bin/sh
# Says which Debian packages are missing for building and testing vigie,
# and how to get them. Called by `make` before compiling anything.
missing=""
need() { # need <debian-package> <test command...>
	pkg=$1; shift
	"$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
pc() { pkg-config --exists "$1"; }
hdr() { printf '#include <%s>\n' "$1" | ${CC:-cc} -E -x c - >/dev/null 2>&1; }

need pkg-config        command -v pkg-config
need build-essential   command -v "${CC:-cc}"
need libcurl4-openssl-dev pc libcurl
need libxml2-dev       pc libxml-2.0
need libev-dev         hdr ev.h
need liblua5.4-dev     pc lua5.4
need libsqlite3-dev    pc sqlite3
need libutf8proc-dev   pc libutf8proc
need libjansson-dev    pc jansson
need libssl-dev        pc libcrypto
need liblz4-dev        pc liblz4
need libcmocka-dev     pc cmocka
need python3           command -v python3

if [ -n "$missing" ]; then
	echo "vigie: missing Debian packages:$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		echo "vigie: run 'make deps' to install them" >&2
	else
		echo "vigie: run 'sudo make deps' or: sudo apt-get install -y$missing" >&2
	fi
	exit 1
fi
exit 0
