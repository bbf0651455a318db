# `make demo` and `make test` each work on a fresh machine: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench system-deps clean

$(BIN)/xlplugin: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(BIN)/xlplugin

demo: $(BIN)/xlplugin
	$(BIN)/xlplugin demo

# LibreOffice (formula checks) and poppler (PNG renders) come from Debian's packages.
system-deps:
	sh scripts/install-system-deps.sh

test: $(BIN)/xlplugin system-deps
	$(BIN)/python -m pytest -q

lint: $(BIN)/xlplugin
	$(BIN)/ruff check xlplugin tests benchmarks templates validators

bench: $(BIN)/xlplugin
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
