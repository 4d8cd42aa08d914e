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

run: $(VENV)/.installed-run
	$(FLASK) db upgrade
	# One outbox worker beside gunicorn; both stop together.
	$(FLASK) outbox run & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2} wsgi:app

test: $(VENV)/.installed-test
	scripts/ensure-nginx
	scripts/ensure-chromium
	TEST_DATABASE_URL="$$(scripts/ensure-postgres)" $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache *.egg-info

bench: $(VENV)/.installed-test
	@command -v wrk >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk curl)
	BENCH_DATABASE_SERVER="$$(scripts/ensure-postgres)" $(BIN)/python bench/run.py

bench-inprocess: $(VENV)/.installed-test
	BENCH_DATABASE_SERVER="$$(scripts/ensure-postgres)" $(BIN)/python bench/inprocess.py $(BENCH_ARGS)
