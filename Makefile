# `make demo` and `make test` each work on a fresh machine: they create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench system-deps clean fuzz corpus-check

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

# Long fuzzing runs, outside `make test`: hypothesis properties with many more examples,
# then atheris over the package reader for FUZZ_SECONDS.  Crashes land in build/fuzz/
# (crash-*): copy each into tests/fuzz/regressions/ as NAME.xlsx.
FUZZ_SECONDS ?= 300
fuzz: $(BIN)/xlplugin
	$(BIN)/python -m pip install -q -e '.[test,fuzz]'
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_properties.py
	mkdir -p build/fuzz/corpus
	$(BIN)/python -m tests.fuzz.seed build/fuzz/corpus
	$(BIN)/python -m tests.fuzz.fuzz_package -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-timeout=30 -artifact_prefix=build/fuzz/ build/fuzz/corpus

# The whole good corpus with a plan sheet inserted and the full `xlplugin run` (slow).
corpus-check: $(BIN)/xlplugin
	XLPLUGIN_CORPUS_FULL=1 $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/test_corpus_run.py

bench: $(BIN)/xlplugin
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
