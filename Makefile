# `make run` serves the API on the embedded SQLite database; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format openapi openapi-examples bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(INSTALLED)

run: $(INSTALLED)
	STAMMKUNDE_LOG_FORMAT=$${STAMMKUNDE_LOG_FORMAT:-console} $(BIN)/stammkunde serve --host $(HOST) --port $(PORT) --demo

lint: $(INSTALLED)
	$(BIN)/ruff check app migrations tests bench
	$(BIN)/ruff format --check app migrations tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest --numprocesses auto --maxprocesses 4 $(PYTEST_ARGS)

format: $(INSTALLED)
	$(BIN)/ruff check --fix app migrations tests bench
	$(BIN)/ruff format app migrations tests bench

# Not part of `make test`: minutes of load on 127.0.0.1 (needs wrk and the local PostgreSQL).
bench: $(INSTALLED)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

openapi: $(INSTALLED)
	$(BIN)/stammkunde openapi

# Re-records the document's examples from what the SQLite half of the suite sends and gets.
openapi-examples: $(INSTALLED)
	record=$$(mktemp -d) && STAMMKUNDE_RECORD_OPENAPI_EXAMPLES=$$record \
	  $(BIN)/pytest -q -n 2 -k "not postgresql" -p no:cacheprovider tests; \
	  status=$$?; rm -rf $$record; exit $$status
	$(BIN)/stammkunde openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
