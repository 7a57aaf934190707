# One entry point for a fresh machine. `make run` sets up, indexes corpus/ and
# answers an example question, then starts the web UI; `make test` sets up and runs the test suite.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run index serve test lint

setup: $(STAMP)

# Re-installs only when pyproject.toml changes, so a second `make setup` is instant.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch first: otherwise sentence-transformers pulls a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: setup
	$(VENV)/bin/rag index corpus/

# Ends by starting the web UI on http://127.0.0.1 (opened in the browser when there is a display).
run: index
	$(VENV)/bin/rag ask "Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?"
	$(VENV)/bin/rag serve --open

# The web UI alone; builds the index from corpus/ on first start.
serve: setup
	$(VENV)/bin/rag serve

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check rag tests app.py
	$(VENV)/bin/mypy
