# One task runner. `make run` and `make test` work on a bare machine with python3 and make.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql://root@127.0.0.1/switchboard_test
PYTEST_ARGS ?=

.PHONY: run install test test-sqlite test-postgres lint fmt bench fuzz clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard migrate
	$(BIN)/switchboard demo --if-empty
	@echo "Switchboard: http://127.0.0.1:8000  (API docs: http://127.0.0.1:8000/docs)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(BIN)/switchboard worker & \
	  $(BIN)/switchboard serve --host 127.0.0.1 --port 8000

test: test-sqlite test-postgres

test-sqlite: $(STAMP)
	@echo "== test suite on SQLite =="
	$(BIN)/pytest -q $(PYTEST_ARGS)

test-postgres: $(STAMP)
	@echo "== test suite on PostgreSQL =="
	SWITCHBOARD_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

fuzz: $(STAMP)
	$(BIN)/python scripts/fuzz.py --max-examples 200

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
