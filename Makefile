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

.PHONY: all deps build release run test bench clean

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

clean:
	rm -rf .build
