# The two commands of the README:
#   make demo   builds everything and runs the demonstration
#   make test   runs every test (what .ci/run runs)
CARGO ?= cargo

.PHONY: all build examples demo test clean

all: build examples

build:
	$(CARGO) build --release
	git diff --quiet -- include/oxsock.h 2>/dev/null || echo "note: include/oxsock.h changed; commit it"

examples: build
	$(MAKE) -C c-examples

demo: examples
	./scripts/demo.sh

test: build
	$(CARGO) test --release -- --test-threads=2
	$(CARGO) fmt --check
	$(CARGO) clippy --release --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --release --no-deps
	git diff --exit-code -- include/oxsock.h || { echo "include/oxsock.h differs from what the build generates: commit it"; exit 1; }
	../shared/tools/contract-check include/oxsock.h

clean:
	$(CARGO) clean
	$(MAKE) -C c-examples clean

# ---- install / uninstall ----------------------------------------------------
#   make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage] [LIBDIR=...] [INCLUDEDIR=...]
# installs liboxsock.so.X.Y.Z (soname liboxsock.so.X) with the links liboxsock.so.X and
# liboxsock.so, liboxsock.a, oxsock.h and oxsock.pc; `make uninstall` (same variables)
# removes exactly those files. The version comes from Cargo.toml.
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL      ?= install
OXS_VERSION  := $(shell sed -n 's/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)
OXS_MAJOR    := $(firstword $(subst ., ,$(OXS_VERSION)))
OXS_INSTALLED = $(DESTDIR)$(LIBDIR)/liboxsock.so.$(OXS_VERSION) \
                $(DESTDIR)$(LIBDIR)/liboxsock.so.$(OXS_MAJOR) \
                $(DESTDIR)$(LIBDIR)/liboxsock.so \
                $(DESTDIR)$(LIBDIR)/liboxsock.a \
                $(DESTDIR)$(INCLUDEDIR)/oxsock.h \
                $(DESTDIR)$(PKGCONFIGDIR)/oxsock.pc

.PHONY: install uninstall

install: build
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0755 target/release/liboxsock.so $(DESTDIR)$(LIBDIR)/liboxsock.so.$(OXS_VERSION)
	ln -sf liboxsock.so.$(OXS_VERSION) $(DESTDIR)$(LIBDIR)/liboxsock.so.$(OXS_MAJOR)
	ln -sf liboxsock.so.$(OXS_MAJOR) $(DESTDIR)$(LIBDIR)/liboxsock.so
	$(INSTALL) -m 0644 target/release/liboxsock.a $(DESTDIR)$(LIBDIR)/liboxsock.a
	$(INSTALL) -m 0644 include/oxsock.h $(DESTDIR)$(INCLUDEDIR)/oxsock.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(OXS_VERSION)|g' \
	    oxsock.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/oxsock.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/oxsock.pc

uninstall:
	rm -f $(OXS_INSTALLED)

# ---- bench ------------------------------------------------------------------
#   make bench [BENCH_ARGS="--quick" | "--runs 3 --only tcp_pingpong,bulk"]
# runs the benchmark harness (bench/run.py): POSIX C, oxsock C, CPython and the oxsock
# Python binding on loopback, interleaved, and prints a table of medians and ratios.
# Not part of `make test` (tests/bench_smoke.rs only checks that --quick runs).
BENCH_ARGS ?=

.PHONY: bench
bench: build
	python3 bench/run.py $(BENCH_ARGS)
	python3 bench/tls_run.py
