# The two set-up commands of the README: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is pinned exactly: a range would pull the CUDA build (several GB).
TORCH := torch==2.13.0

.PHONY: run test install install-dev lint types pytest screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH) -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH) -e '.[dev]'

run: install
	HF_HUB_OFFLINE=1 $(BIN)/teamlore serve

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install-dev
	$(BIN)/mypy

pytest: install-dev
	HF_HUB_OFFLINE=1 $(BIN)/pytest --cov --cov-report=term:skip-covered $(PYTEST_ARGS)

test: lint types pytest

# Retake the README's screenshots (docs/screenshots) with the browser tests.
screenshots: install-dev
	HF_HUB_OFFLINE=1 TEAMLORE_UPDATE_SCREENSHOTS=1 $(BIN)/pytest tests/webui/browser -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
