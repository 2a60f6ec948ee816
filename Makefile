# vigie — plain GNU make. `make help` lists the targets.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
SHAREDIR   ?= $(PREFIX)/share/vigie
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(if $(filter /usr/local,$(PREFIX)),/etc,$(PREFIX)/etc))
UNITDIR    ?= $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
# Where the service keeps its database: systemd's StateDirectory=vigie.
STATEDIR   ?= /var/lib/vigie
# The configuration installed (once) as $(SYSCONFDIR)/vigie/vigie.lua.
CONFIG_SRC ?= etc/vigie.lua
SCDOC      ?= scdoc

BUILD ?= build
VIGIE_DEMO_PORT ?= 8808
CC    ?= cc
PYTHON ?= python3

# Libraries found through pkg-config (libev ships no .pc file on Debian).
PKGS      := libcurl libxml-2.0 lua5.4 sqlite3 libutf8proc jansson libcrypto liblz4
TEST_PKGS := cmocka
# The Debian packages behind them, plus what the tests run.
DEB_PKGS  := build-essential pkg-config libcurl4-openssl-dev libxml2-dev \
             libev-dev liblua5.4-dev libsqlite3-dev libutf8proc-dev \
             libjansson-dev libssl-dev liblz4-dev libcmocka-dev python3 \
             scdoc man-db procps systemd

export VIGIE_SANITIZED
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wpointer-arith -Wwrite-strings \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wundef \
           -Wvla -Wimplicit-fallthrough -Wcast-qual
ifeq ($(WERROR),1)
WARN    += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lev -lm
CMOCKA_LIBS := $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -DVIGIE_VERSION='"$(VERSION)"' \
              $(OPT) $(WARN) $(SAN) $(PKG_CFLAGS) -Idaemon -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SAN) $(LDFLAGS)

SRCS     := $(sort $(wildcard daemon/*.c))
OBJS     := $(SRCS:daemon/%.c=$(BUILD)/obj/%.o)
LIBOBJS  := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
LIB      := $(BUILD)/libvigie.a
BIN      := $(BUILD)/vigie
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TESTS     := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
TEST_HELPERS := $(wildcard tests/helpers/*.c)
MAN_SRCS  := $(sort $(wildcard man/*.scd))
MANS      := $(MAN_SRCS:man/%.scd=$(BUILD)/man/%)

.PHONY: all test unit integration asan fuzz bench run deps check-deps \
        install uninstall clean help format man FORCE

all: $(BIN)

help:
	@echo "make            build $(BIN)"
	@echo "make run        run the daemon on the bundled offline sample feeds"
	@echo "make test       build and run every test (unit + integration)"
	@echo "make asan       the whole test suite under ASan + UBSan"
	@echo "make fuzz       run the libFuzzer targets (FUZZ_TIME=seconds, default 60)"
	@echo "make bench      run the benchmarks (writes bench/RESULTS.md)"
	@echo "make deps       install the Debian packages vigie needs (as root)"
	@echo "make man        build the man pages into $(BUILD)/man (needs scdoc)"
	@echo "make install    install under PREFIX ($(PREFIX)), honouring DESTDIR"
	@echo "make uninstall  remove what install put there, except the config"
	@echo "make clean      remove $(BUILD)/"

# Fail early, naming what is missing, instead of a wall of compiler errors.
check-deps:
	@PKGS="$(PKGS) $(TEST_PKGS)" DEB_PKGS="$(DEB_PKGS)" CC="$(CC)" sh tests/check-deps.sh

deps:
	@if [ "$$(id -u)" -eq 0 ]; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PKGS) || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEB_PKGS); }; \
	else \
		echo "vigie: make deps: needs root; run:"; \
		echo "  sudo apt-get install -y $(DEB_PKGS)"; \
		exit 1; \
	fi

$(BUILD)/obj/%.o: daemon/%.c | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIBOBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/%.c $(TEST_HELPERS) $(LIB) | check-deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests -o $@ $< $(TEST_HELPERS) $(LIB) $(ALL_LDFLAGS) $(CMOCKA_LIBS) $(PKG_LIBS)

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; \
		VIGIE_FIXTURES=tests/fixtures $$t; done

integration: $(BIN)
	VIGIE=$(abspath $(BIN)) VIGIE_ROOT=$(CURDIR) $(PYTHON) tests/integration/run.py $(ITEST)

# One after the other even under -j: the daemon's rule budgets are wall
# time, and under ASan a unit test's memory bomb beside the integration
# tests once stalled a script's load past its budget (10 s for 0.16 s).
test: $(BIN) $(TESTS)
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@echo "make test: all tests passed"

# The whole suite again, instrumented. Separate build dir, same sources.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		VIGIE_SANITIZED=1 test
	@echo "make asan: all tests passed under ASan + UBSan"

FUZZ_TIME ?= 60
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
fuzz: | check-deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link,address,undefined" build/fuzz/libvigie.a
	@set -e; for t in $(FUZZ_TARGETS); do \
		clang -std=c11 -D_GNU_SOURCE -O1 -g -Idaemon $(PKG_CFLAGS) \
			-fsanitize=fuzzer,address,undefined tests/fuzz/$$t.c \
			build/fuzz/libvigie.a $(PKG_LIBS) -o build/fuzz/$$t; \
		mkdir -p build/fuzz/corpus-$$t; \
		cp tests/fixtures/feeds/* build/fuzz/corpus-$$t/; \
		echo "== fuzzing $$t for $(FUZZ_TIME)s"; \
		if build/fuzz/$$t -max_total_time=$(FUZZ_TIME) -max_len=65536 \
			-rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=build/fuzz/ build/fuzz/corpus-$$t \
			> build/fuzz/$$t.log 2>&1; then \
			grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units)" build/fuzz/$$t.log; \
		else \
			tail -n 60 build/fuzz/$$t.log; echo "fuzz: $$t found a crash"; exit 1; \
		fi; \
	done

bench: $(BIN)
	sh bench/run.sh

run: $(BIN)
	@VIGIE_DEMO_PORT=$(VIGIE_DEMO_PORT) sh etc/run-demo.sh $(BIN)

# Man pages: scdoc sources in man/, roff in $(BUILD)/man.
man: $(MANS)

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(@D)
	sed -e 's|@VERSION@|$(VERSION)|g' $< | $(SCDOC) > $@.tmp
	@mv $@.tmp $@

# The config in the repo names the bundled scripts and sample feeds relative
# to etc/ ("../scripts/x.lua", "../feeds/samples/...") and may keep its state
# under the source tree. Installed in $(SYSCONFDIR)/vigie:
# - a Lua string value that starts with ../scripts/ or ../feeds/ (after "(",
#   "{", "=" or ",": commented-out examples included, so that they work once
#   uncommented) names the shared directory instead; prose that quotes such
#   a path, about the source tree, is left as written;
# - state_dir is $STATE_DIRECTORY (systemd's StateDirectory=), else
#   $(STATEDIR), whatever the source said;
# - "vigie check -c /etc/vigie/vigie.lua" names where the file really is.
CONFIG_SED := -e 's|\([({=,][[:space:]]*["'"'"']\)\.\./scripts/|\1$(SHAREDIR)/scripts/|g' \
              -e 's|\([({=,][[:space:]]*["'"'"']\)\.\./feeds/|\1$(SHAREDIR)/feeds/|g' \
              -e 's|^\([[:space:]]*state_dir[[:space:]]*=[[:space:]]*\).*$$|\1os.getenv("STATE_DIRECTORY") or "$(STATEDIR)"|' \
              -e 's|/etc/vigie/vigie\.lua|$(SYSCONFDIR)/vigie/vigie.lua|g'
UNIT_SED   := -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'

# The binary installed: build/vigie relinked with paths.c compiled for
# $(SYSCONFDIR), so that `vigie check`, `status` ... without -c read the
# configuration installed under another PREFIX. Remade at every install
# (one small file); build/vigie itself keeps /etc and is never rebuilt by
# an install.
INSTALL_BIN := $(BUILD)/install/vigie
$(INSTALL_BIN): $(BUILD)/obj/main.o $(LIB) FORCE
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -DVIGIE_SYSCONFDIR='"$(SYSCONFDIR)"' \
		-c daemon/paths.c -o $(@D)/paths.o
	$(CC) $(ALL_LDFLAGS) -o $@ $(BUILD)/obj/main.o $(@D)/paths.o $(LIB) $(PKG_LIBS)

FORCE:

install: $(INSTALL_BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SHAREDIR)/scripts \
		$(DESTDIR)$(SHAREDIR)/feeds $(DESTDIR)$(SYSCONFDIR)/vigie \
		$(DESTDIR)$(UNITDIR)
	install -m 755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/vigie
	@set -e; for f in scripts/*.lua; do \
		if [ -f "$$f" ]; then install -m 644 "$$f" $(DESTDIR)$(SHAREDIR)/scripts/; fi; \
	done
	@if [ -d feeds ]; then cp -R feeds/. $(DESTDIR)$(SHAREDIR)/feeds/; fi
	@conf=$(DESTDIR)$(SYSCONFDIR)/vigie/vigie.lua; \
	if [ -e "$$conf" ]; then \
		echo "keeping existing $$conf"; \
	elif [ ! -f $(CONFIG_SRC) ]; then \
		echo "vigie: make install: $(CONFIG_SRC) is missing (no configuration to install)" >&2; \
		exit 1; \
	else \
		sed $(CONFIG_SED) $(CONFIG_SRC) > "$$conf.tmp" && \
		chmod 644 "$$conf.tmp" && mv "$$conf.tmp" "$$conf" && \
		echo "installed $$conf"; \
	fi
	sed $(UNIT_SED) systemd/vigie.service > $(DESTDIR)$(UNITDIR)/vigie.service.tmp
	chmod 644 $(DESTDIR)$(UNITDIR)/vigie.service.tmp
	mv $(DESTDIR)$(UNITDIR)/vigie.service.tmp $(DESTDIR)$(UNITDIR)/vigie.service
	@if command -v $(SCDOC) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory man && \
		install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 && \
		install -m 644 $(BUILD)/man/vigie.1 $(DESTDIR)$(MANDIR)/man1/ && \
		install -m 644 $(BUILD)/man/vigie.lua.5 $(DESTDIR)$(MANDIR)/man5/; \
	else \
		echo "vigie: scdoc not found: man pages not installed (apt-get install scdoc)"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vigie $(DESTDIR)$(UNITDIR)/vigie.service \
		$(DESTDIR)$(MANDIR)/man1/vigie.1 $(DESTDIR)$(MANDIR)/man5/vigie.lua.5
	rm -rf $(DESTDIR)$(SHAREDIR)/scripts $(DESTDIR)$(SHAREDIR)/feeds
	-rmdir $(DESTDIR)$(SHAREDIR) 2>/dev/null
	@echo "left $(DESTDIR)$(SYSCONFDIR)/vigie/ in place (your configuration)"

format:
	clang-format -i daemon/*.c daemon/*.h tests/*.c

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(TESTS:=.d)
