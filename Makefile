# The README's two commands: `make run` serves the API, `make test` runs the suite.
# Both build .venv from nothing and reinstall only when setup.cfg changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app jsonapi_server
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format clean bench bench-inprocess

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed-run: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

# Node tools the tests run (Redocly CLI lints the OpenAPI document), as package-lock.json pins.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the OpenAPI lint test will be skipped"; fi

# scripts/run: migrations, then gunicorn and one outbox worker, which stop together when make
# is stopped (make passes SIGTERM on to its child).
# (One plain command, which make starts itself, not through a shell that would keep the signal.)
run: export HOST := $(HOST)
run: export PORT := $(PORT)
run: $(VENV)/.installed-run
	scripts/run $(BIN)

test: $(VENV)/.installed-test node_modules/.installed
	scripts/ensure-nginx
	@# tests/test_walkthrough.py runs the README's curl commands.
	@command -v curl >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl)
	scripts/ensure-chromium
	TEST_DATABASE_URL="$$(scripts/ensure-postgres)" $(BIN)/pytest $(PYTEST_ARGS)

# What .pre-commit-config.yaml runs too; mypy's settings are pyproject.toml's [tool.mypy].
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules instance .pytest_cache .ruff_cache .mypy_cache *.egg-info

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl)
	BENCH_DATABASE_SERVER="$$(scripts/ensure-postgres)" $(BIN)/python bench/run.py

bench-inprocess: $(VENV)/.installed-test
	BENCH_DATABASE_SERVER="$$(scripts/ensure-postgres)" $(BIN)/python bench/inprocess.py $(BENCH_ARGS)
