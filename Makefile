# hailong: `make run` to serve the demo, `make test` to run every test. `make help` for more.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?=
# `make run PORT=5102` serves there, and the demo URLs printed by seed-demo say so.
export HOST PORT

.DEFAULT_GOAL := help
.PHONY: help run test lint bench translations db setup clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "hailong needs Python 3.11 or newer; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.run-deps
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

translations: $(VENV)/.run-deps  ## compile the vi/en catalogues
	$(FLASK) translate compile

db: translations  ## upgrade instance/hailong.db (or DATABASE_URL) and seed the demo when empty
	$(FLASK) db upgrade
	$(FLASK) seed-demo

setup: db

run: db  ## set everything up and serve http://127.0.0.1:5000 with demo data
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-deps db  ## set everything up and run the whole test suite
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure" >&2; exit 1; fi; exit $$rc

lint: $(VENV)/.dev-deps  ## ruff, and missing Vietnamese translations
	$(BIN)/ruff check .
	$(FLASK) translate check

bench: $(VENV)/.dev-deps db  ## run the benchmarks in bench/ (see docs/performance.md)
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:  ## remove the virtualenv, caches and compiled catalogues (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
	find translations -name '*.mo' -delete
