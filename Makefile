# Tandem: the two set-up commands.
#   make run   builds the release binary, loads demo data and serves it (SQLite in ./data)
#   make test  builds the debug binary (ASan + UBSan) and runs every test
# Both install the Debian packages they need when missing.

DATA ?= ./data
LISTEN ?= 127.0.0.1:8080
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3

DEPS := g++ cmake make pkg-config libboost-dev libsqlite3-dev libsodium-dev nlohmann-json3-dev libjemalloc-dev \
        libspdlog-dev libfmt-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev \
        python3 python3-pytest sqlite3 curl libcurl4-openssl-dev \
        libhpdf-dev libqrencode-dev poppler-utils

.PHONY: run test deps build-release build-debug unit functional tools-tests bench-smoke demo-stores clean

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build-release: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j$(JOBS) --target tandem

build-debug: deps
	cmake --preset debug >/dev/null
	cmake --build build/debug -j$(JOBS)

run: build-release
	./build/release/src/tandem/tandem demo --data $(DATA)
	@echo ""
	@echo "Open http://$(LISTEN)/api/v1/products (reference: /api/v1/openapi.json, health: /healthz)."
	@echo "Log in with POST /api/v1/auth/login as admin@tandem.local / tandem-admin (see the logins above)."
	@echo ""
	./build/release/src/tandem/tandem serve --data $(DATA) --listen $(LISTEN)

# With `make run` serving in another terminal: stores and tills sell offline and upload late.
demo-stores:
	$(PYTHON) tools/till_simulator.py --url http://$(LISTEN) --email admin@tandem.local \
	  --password tandem-admin --stores 3 --tills-per-store 2 --duration-seconds 30

unit: build-debug
	ctest --test-dir build/debug --output-on-failure -j$(JOBS)

functional: build-debug
	TANDEM_BIN=$(CURDIR)/build/debug/src/tandem/tandem $(PYTHON) -m pytest -q -p no:cacheprovider tests/functional

# The tools that need no Tandem binary: the card payment provider simulator (docs/payments.md).
tools-tests:
	$(PYTHON) -m pytest -q -p no:cacheprovider tests/tools

# The benchmark tooling once on a tiny setting, to prove it works (never a timing assertion).
# The full benchmark is bench/run.sh (see docs/performance.md).
bench-smoke: build-debug
	TANDEM_BIN=$(CURDIR)/build/debug/src/tandem/tandem $(PYTHON) -m pytest -q -p no:cacheprovider bench/test_bench_smoke.py

test: unit functional tools-tests bench-smoke

clean:
	rm -rf build
