# authzd: `make run` serves the example configuration, `make test` runs every test.
# Both install what a fresh Debian machine lacks (with sudo when not root).

SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?= deploy/authzd.toml
DEB_PACKAGES := pkg-config libssl-dev libcurl4-openssl-dev libsystemd-dev openssl ca-certificates \
	systemd nginx-light python3 python3-cryptography python3-jwt curl procps libtomcat10-embed-java \
	$(if $(wildcard /usr/bin/javac),,default-jdk-headless)
BENCH_PACKAGES := wrk

.PHONY: all deps build release run test bench clean fuzz sanitize

all: build

# Install the Debian packages that are missing (apt-get only when something is).
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@python3 -c "import jwt, cryptography" 2>/dev/null || python3 -m pip install -q pyjwt cryptography \
		|| python3 -m pip install -q --break-system-packages pyjwt cryptography

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	@$(SUDO) mkdir -p /run/authzd
	.build/release/authzd check-config --config $(CONFIG)
	.build/release/authzd serve --config $(CONFIG)

# Unit tests and end-to-end tests (real nginx, journald, HTTPS JWKS server, systemd tools).
test: deps
	$(SWIFT) build --build-tests
	Tests/support/journald.sh start
	@set -o pipefail; status=0; $(SWIFT) test --skip-build --no-parallel 2>&1 | tee .build/test.log || status=$$?; \
		Tests/support/journald.sh stop; \
		total=$$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .*/\1/p' .build/test.log | tail -n 1); \
		failed=$$(grep -c '^✘ Test .* failed after' .build/test.log || true); \
		echo "$$(( $${total:-0} - failed )) passed, $$failed failed"; \
		exit $$status

bench: deps
	@for p in $(BENCH_PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$p; }; done
	$(SWIFT) build -c release
	bench/run.sh

# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer): each target of Fuzz/ runs for
# FUZZ_SECONDS on its committed seeds (Fuzz/Corpus/TARGET); what it learns is kept in
# $(FUZZ_BUILD)/corpus, untracked. A crash fails the make and names the reproducer.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzJSON FuzzTOML FuzzCompactJWS FuzzJWKSet FuzzLineFramer FuzzCheckRequest
FUZZ_BUILD := Fuzz/.build-fuzz
FUZZ_FLAGS ?=

fuzz: deps
	$(SWIFT) build --package-path Fuzz --scratch-path $(FUZZ_BUILD) -c release \
		--sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing --disable-dead-strip
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
		echo "== $$t: $(FUZZ_SECONDS) s"; \
		SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BUILD)/release/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-max_len=8192 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ $(FUZZ_FLAGS) \
			$(FUZZ_BUILD)/corpus/$$t Fuzz/Corpus/$$t > $(FUZZ_BUILD)/$$t.log 2>&1 \
			|| failed="$$failed $$t"; \
		grep -q 'inline 8-bit counters' $(FUZZ_BUILD)/$$t.log \
			|| { echo "$$t: no coverage counters, libFuzzer ran blind"; failed="$$failed $$t"; }; \
		grep -E '^stat::number_of_executed_units|^stat::new_units_added' $(FUZZ_BUILD)/$$t.log || true; \
	done; \
	for t in $$failed; do \
		echo "$$t FAILED (log $(FUZZ_BUILD)/$$t.log):"; grep -E 'ERROR|Fatal error|Test unit written' $(FUZZ_BUILD)/$$t.log; \
		echo "  reproduce: $(FUZZ_BUILD)/release/$$t $(FUZZ_BUILD)/crashes/$$t/crash-..."; \
	done; \
	[ -z "$$failed" ]

# The whole test suite, end-to-end tests included, built with ThreadSanitizer and then with
# AddressSanitizer, each in its own build folder (.build-thread, .build-address). The end-to-end
# tests start the sanitized binaries (AUTHZD_BIN_DIR). Every process writes its reports to
# BUILD/sanitizer-reports; any report fails the make, even when the tests pass.
# SANITIZE_TEST_FLAGS passes options to swift test (e.g. --skip EndToEndTests: a few end-to-end
# tests have time budgets that ThreadSanitizer's slowdown can exceed on a busy 2-core machine).
SANITIZERS ?= thread address
SANITIZE_TEST_FLAGS ?=

sanitize: deps
	@status=0; for s in $(SANITIZERS); do \
		dir=$$PWD/.build-$$s; rm -rf $$dir/sanitizer-reports; mkdir -p $$dir/sanitizer-reports; \
		echo "== $$s: build"; \
		$(SWIFT) build --build-tests --sanitize $$s --scratch-path $$dir || exit 1; \
		Tests/support/journald.sh start; \
		echo "== $$s: test (log $$dir/test.log)"; \
		TSAN_OPTIONS="log_path=$$dir/sanitizer-reports/report suppressions=$$PWD/Fuzz/tsan.supp" \
		ASAN_OPTIONS="log_path=$$dir/sanitizer-reports/report detect_leaks=0" \
		AUTHZD_BIN_DIR=$$dir/debug \
			$(SWIFT) test --skip-build --sanitize $$s --scratch-path $$dir --no-parallel $(SANITIZE_TEST_FLAGS) \
				> $$dir/test.log 2>&1 \
			|| { echo "$$s: tests failed"; grep -E '^✘' $$dir/test.log | head -n 40; status=1; }; \
		Tests/support/journald.sh stop; \
		grep -E '^(✔|✘) Test run with' $$dir/test.log || true; \
		if [ -n "$$(ls -A $$dir/sanitizer-reports)" ]; then \
			echo "$$s: sanitizer reports:"; head -n 60 $$dir/sanitizer-reports/*; status=1; \
		fi; \
	done; exit $$status

clean:
	rm -rf .build
