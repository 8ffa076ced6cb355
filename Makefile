# Two commands on a fresh machine: `make serve` and `make test`. Each builds .venv first:
# `serve` installs the package alone, `test` adds the test extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test

.PHONY: serve test bench stress clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(SERVE_STAMP) $(TEST_STAMP)

serve: $(SERVE_STAMP)
	$(BIN)/mailgun-mock serve --smtp-port 2525 --smtp-submission-port 2587 $(ARGS)

test: $(TEST_STAMP)
	$(BIN)/python -m pytest $(ARGS)

bench: $(TEST_STAMP)
	@for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

stress: $(TEST_STAMP)
	@for b in bench/stress_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info
