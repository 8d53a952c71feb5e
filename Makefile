# Two commands for a fresh Debian/Ubuntu machine:
#   make demo   installs what is missing, then runs the app on a local demo stack
#   make test   installs what is missing, then runs the linters and the whole test suite
SHELL := /bin/bash
# The newest Python 3.11+ on the machine (Ubuntu 22.04's python3 is 3.10).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do command -v $$p >/dev/null && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo $$p && break; done)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check lint system-deps system-deps-test venv bench clean

demo: system-deps venv
	$(VENV)/bin/oncall-tui demo

# Test files are shared out to $(WORKERS) processes, each file whole on one (its own stack).
WORKERS ?= 2

test: system-deps-test venv lint
	$(PY) -m pytest -n $(WORKERS) --dist loadfile

lint: venv
	$(PY) -m ruff check oncall_tui tests bench scripts
	$(PY) -m ruff format --check oncall_tui tests bench scripts
	$(PY) -m mypy
	$(VENV)/bin/lint-imports

system-deps:
	@scripts/install-system-deps.sh demo

system-deps-test:
	@scripts/install-system-deps.sh test

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The board benchmark's quick mode (about 1.5 minutes): every figure of issue 18 side by side.
bench: venv
	$(PY) bench/board.py --quick

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
