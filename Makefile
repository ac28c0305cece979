# authzd: `make run` serves the example configuration, `make test` runs every test.
# Both install what a fresh Debian machine lacks (with sudo when not root).

SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CONFIG ?= deploy/authzd.toml
DEB_PACKAGES := pkg-config libssl-dev libcurl4-openssl-dev libsystemd-dev openssl ca-certificates \
	systemd nginx-light python3 python3-pip python3-cryptography python3-jwt curl procps libtomcat10-embed-java \
	$(if $(wildcard /usr/bin/javac),,default-jdk-headless)
BENCH_PACKAGES := wrk libnginx-mod-http-js

.PHONY: all deps build release run test bench clean fuzz sanitize static man completions install install-files \
	uninstall deb packaging-deps systemd-test

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
	@python3 -c "import oauth2_provider, jwcrypto" 2>/dev/null || python3 -m pip install -q "django-oauth-toolkit>=3" \
		|| python3 -m pip install -q --break-system-packages "django-oauth-toolkit>=3"
	@python3 -c "import prometheus_client" 2>/dev/null || python3 -m pip install -q prometheus_client \
		|| python3 -m pip install -q --break-system-packages prometheus_client

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	@$(SUDO) mkdir -p /run/authzd && $(SUDO) chown "$$(id -u)" /run/authzd
	.build/release/authzd check-config --config $(CONFIG)
	.build/release/authzd serve --config $(CONFIG)

# Unit tests and end-to-end tests (real nginx, journald, HTTPS JWKS server, systemd tools), then
# the systemd tier (a real systemd as PID 1 in private namespaces; see systemd-test).
test: deps
	$(SWIFT) build --build-tests
	Tests/support/journald.sh start
	@set -o pipefail; status=0; $(SWIFT) test --skip-build --no-parallel 2>&1 | tee .build/test.log || status=$$?; \
		Tests/support/journald.sh stop; \
		total=$$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .*/\1/p' .build/test.log | tail -n 1); \
		failed=$$(grep -c '^✘ Test .* failed after' .build/test.log || true); \
		echo "$$(( $${total:-0} - failed )) passed, $$failed failed"; \
		tier=0; $(MAKE) --no-print-directory systemd-test 2>&1 | tee .build/systemd-test.log || tier=$$?; \
		grep '^systemd tier' .build/systemd-test.log || true; \
		[ $$status = 0 ] && [ $$tier = 0 ]

# --- Installing and packaging ------------------------------------------------------------------
# `make install` builds the release binaries with the Swift standard library linked in
# (--static-swift-stdlib: they need no Swift toolchain where they run) and installs them, the
# systemd units, a sysusers.d file, a production example configuration (never over an existing
# one), the nginx snippets, man pages, shell completions and the docs. DESTDIR stages the files
# elsewhere; PREFIX (default /usr/local) is where they will live, and the units name it.
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
BINDIR = $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DATADIR = $(PREFIX)/share/authzd
DOCDIR ?= $(PREFIX)/share/doc/authzd
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
STATIC_BIN := .build/release
GENERATED := .build/generated
VERSION := $(shell sed -n 's/^let authzdVersion = "\(.*\)"/\1/p' Sources/authzd/AuthzdCommand.swift)
# dpkg-dev for dpkg-shlibdeps, binutils for strip; iproute2 brings up lo in the systemd tier.
PACKAGING_PACKAGES := dpkg-dev binutils gzip iproute2 util-linux

static: deps
	$(SWIFT) build -c release --static-swift-stdlib --product authzd
	$(SWIFT) build -c release --static-swift-stdlib --product authzd-nginx

# Man pages from the argument parsers, with swift-argument-parser's generate-manual tool (the
# tool behind its generate-manual plugin; the plugin itself builds every target, test support
# included, so the tool is built and run directly). Dated by the last commit, for reproducibility.
MAN_DATE := $(shell git log -1 --format=%cs 2>/dev/null || date -u +%F)
man: static
	$(SWIFT) build -c release --static-swift-stdlib --product generate-manual
	@rm -rf $(GENERATED)/man && mkdir -p $(GENERATED)/man
	@for b in authzd authzd-nginx; do \
		.build/release/generate-manual $(STATIC_BIN)/$$b --date $(MAN_DATE) --authors "the authzd authors" \
			--output-directory $(GENERATED)/man || exit 1; \
	done

completions: static
	@mkdir -p $(GENERATED)/completions
	@for b in authzd authzd-nginx; do \
		$(STATIC_BIN)/$$b --generate-completion-script bash > $(GENERATED)/completions/$$b.bash && \
		$(STATIC_BIN)/$$b --generate-completion-script zsh > $(GENERATED)/completions/_$$b && \
		$(STATIC_BIN)/$$b --generate-completion-script fish > $(GENERATED)/completions/$$b.fish || exit 1; \
	done

# Builds first when a Swift toolchain is on PATH; `sudo make install` on a machine where root has
# none copies what `make static man completions` built as yourself.
install:
	@if command -v $(SWIFT) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory static man completions || exit 1; \
	elif [ ! -x $(STATIC_BIN)/authzd ]; then \
		echo "no $(SWIFT) on PATH and nothing built: run 'make static man completions' first" >&2; exit 1; \
	fi
	@$(MAKE) --no-print-directory install-files

# The copying alone, from what static, man and completions made (the systemd tier calls it).
# Refuses binaries that load the Swift runtime from a toolchain (a `make release` build).
install-files:
	@for b in authzd authzd-nginx; do \
		if ldd $(STATIC_BIN)/$$b | grep -q 'swift'; then \
			echo "$(STATIC_BIN)/$$b loads the Swift runtime from the toolchain: run 'make static' first" >&2; exit 1; \
		fi; \
	done
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(DATADIR)/nginx $(DESTDIR)$(DOCDIR)/examples/apps.d $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) \
		$(DESTDIR)$(SYSCONFDIR)/authzd/apps.d
	install -d -m 0750 $(DESTDIR)$(SYSCONFDIR)/authzd/secrets
	install -m 0755 $(STATIC_BIN)/authzd $(STATIC_BIN)/authzd-nginx $(DESTDIR)$(BINDIR)/
	@for u in authzd.service authzd.socket authzd-nginx.service; do \
		sed -e 's|/usr/local/bin/|$(BINDIR)/|g' -e 's|/etc/authzd/|$(SYSCONFDIR)/authzd/|g' \
		    -e 's|file:///usr/local/share/doc/authzd/|file://$(DOCDIR)/|g' \
		    deploy/systemd/$$u > $(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 0644 deploy/systemd/authzd.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/authzd.conf
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/authzd/authzd.toml ]; then \
		echo "keeping $(DESTDIR)$(SYSCONFDIR)/authzd/authzd.toml (the example is $(DOCDIR)/examples/authzd.toml)"; \
	else \
		install -m 0644 packaging/authzd.toml $(DESTDIR)$(SYSCONFDIR)/authzd/authzd.toml; \
	fi
	install -m 0644 packaging/authzd.toml $(DESTDIR)$(DOCDIR)/examples/authzd.toml
	install -m 0644 deploy/apps.d/* $(DESTDIR)$(DOCDIR)/examples/apps.d/
	install -m 0644 deploy/nginx/*.conf $(DESTDIR)$(DATADIR)/nginx/
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	@if [ -d $(GENERATED)/man ]; then install -m 0644 $(GENERATED)/man/*.1 $(DESTDIR)$(MANDIR)/man1/; fi
	@if [ -d $(GENERATED)/completions ]; then \
		install -m 0644 $(GENERATED)/completions/authzd.bash $(DESTDIR)$(BASHCOMPDIR)/authzd && \
		install -m 0644 $(GENERATED)/completions/authzd-nginx.bash $(DESTDIR)$(BASHCOMPDIR)/authzd-nginx && \
		install -m 0644 $(GENERATED)/completions/_authzd $(GENERATED)/completions/_authzd-nginx $(DESTDIR)$(ZSHCOMPDIR)/ && \
		install -m 0644 $(GENERATED)/completions/*.fish $(DESTDIR)$(FISHCOMPDIR)/; \
	fi

# Removes what install put in place, except the configuration in $(SYSCONFDIR)/authzd.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/authzd $(DESTDIR)$(BINDIR)/authzd-nginx \
		$(DESTDIR)$(UNITDIR)/authzd.service $(DESTDIR)$(UNITDIR)/authzd.socket \
		$(DESTDIR)$(UNITDIR)/authzd-nginx.service $(DESTDIR)$(SYSUSERSDIR)/authzd.conf \
		$(DESTDIR)$(MANDIR)/man1/authzd*.1 $(DESTDIR)$(BASHCOMPDIR)/authzd $(DESTDIR)$(BASHCOMPDIR)/authzd-nginx \
		$(DESTDIR)$(ZSHCOMPDIR)/_authzd $(DESTDIR)$(ZSHCOMPDIR)/_authzd-nginx \
		$(DESTDIR)$(FISHCOMPDIR)/authzd.fish $(DESTDIR)$(FISHCOMPDIR)/authzd-nginx.fish
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/authzd and the authzd user; remove them by hand if you want"

packaging-deps:
	@missing=""; for p in $(PACKAGING_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# A Debian package of the static binaries, built with dpkg-deb (Depends from dpkg-shlibdeps),
# in .build/deb/. Never installed here: the systemd tier installs it into a throwaway root.
deb: static man completions packaging-deps
	packaging/deb/build.sh $(VERSION)

# The systemd tier (Tests/systemd): a real systemd as PID 1 in private namespaces, the shipped
# units installed by `make install` and by the package. Root only; changes nothing on the host.
systemd-test: deb
	Tests/systemd/run.sh make-install
	Tests/systemd/run.sh deb .build/deb/authzd_$(VERSION)_$$(dpkg --print-architecture).deb

bench: deps
	@for p in $(BENCH_PACKAGES); do dpkg-query -W $$p >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$p; }; done
	$(SWIFT) build -c release
	bench/run.sh

# Coverage-guided fuzzing (libFuzzer, with AddressSanitizer): each target of Fuzz/ runs for
# FUZZ_SECONDS on its committed seeds (Fuzz/Corpus/TARGET); what it learns is kept in
# $(FUZZ_BUILD)/corpus, untracked. A crash fails the make and names the reproducer.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzJSON FuzzTOML FuzzCompactJWS FuzzJWKSet FuzzLineFramer FuzzCheckRequest FuzzRequestPath FuzzJavaProperties FuzzIntrospectionAnswer
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
