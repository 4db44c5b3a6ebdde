# Tokowa: `make run` starts the shop on the embedded default, `make test` runs everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test simulate lint bench clean

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

# Long simulation runs: make simulate SEED=123 STEPS=200 EXAMPLES=500 [WIRINGS=memory,sqlite] [STRICT=1]
# (no SEED: a random one, printed). A failure prints the seed and the minimal failing sequence.
SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
STEPS ?= 100
EXAMPLES ?= 200
simulate: $(STAMP)
	TOKOWA_SIM_SEED=$(SEED) TOKOWA_SIM_STEPS=$(STEPS) TOKOWA_SIM_EXAMPLES=$(EXAMPLES) TOKOWA_SIM_WIRINGS=$(WIRINGS) \
		TOKOWA_SIM_STRICT=$(STRICT) $(BIN)/pytest -p no:cacheprovider -s -q tests/simulation/test_simulation.py

lint: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(STAMP)
	bench/run_all.sh

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .hypothesis
