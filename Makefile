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
	$(CARGO) clippy --release --all-targets -- -D warnings
	../shared/tools/contract-check include/oxsock.h

clean:
	$(CARGO) clean
	$(MAKE) -C c-examples clean
