# Tokowa: `make run` starts the shop on the embedded default, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Tokowa needs Python 3.11 or newer (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tokowa migrate
	$(BIN)/tokowa demo
	$(BIN)/tokowa serve

test: $(STAMP)
	$(BIN)/pytest -q -p no:cacheprovider
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	bench/run_all.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis
