# Two commands on a fresh machine: `make serve` and `make test`. Each builds .venv first:
# `serve` installs the package alone, `test` adds the test extra.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP := $(VENV)/.installed-test
CHROMIUM := /usr/bin/chromium

.PHONY: serve test bench stress clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(SERVE_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE_STAMP)

$(TEST_STAMP): setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(SERVE_STAMP) $(TEST_STAMP)

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser download
# is never used). As root, install it when missing; elsewhere those tests skip, saying why
# (under CI=true a missing browser fails them).
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

serve: $(SERVE_STAMP)
	$(BIN)/mailgun-mock serve --smtp-port 2525 --smtp-submission-port 2587 $(ARGS)

test: $(TEST_STAMP) chromium
	$(BIN)/python -m pytest -n 2 $(ARGS)

bench: $(TEST_STAMP) chromium
	@for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

stress: $(TEST_STAMP)
	@for b in bench/stress_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info
