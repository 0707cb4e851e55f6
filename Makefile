# The two commands: `make demo` and `make test`. Each sets up what it needs on a fresh machine.
SHELL := /bin/bash
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then echo $$p; break; fi; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit services bench clean

$(STAMP): pyproject.toml constraints/lock.txt
	@test -n "$(PYTHON)" || { echo "smartcity needs Python 3.11 or newer"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints/lock.txt -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@mkdir -p var
	$(BIN)/smartcity demo --host 127.0.0.1 --port 8080 --database sqlite:///./var/smartcity.db

services:
	@bash scripts/services.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) services lint typecheck
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=30

bench: $(STAMP) services
	$(BIN)/python benchmarks/hub.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
