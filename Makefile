# streamrec: `make demo` runs the whole stack locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint bench demo stop clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	PYTHONPATH=. $(PY) bench/publish.py
	PYTHONPATH=. $(PY) bench/stream.py
	PYTHONPATH=. $(PY) bench/freshness.py
	PYTHONPATH=. $(PY) bench/serve.py
	PYTHONPATH=. $(PY) bench/train.py
	PYTHONPATH=. $(PY) bench/quality.py
	PYTHONPATH=. $(PY) bench/offline_protocols.py

demo: install
	bash deploy/demo.sh start

stop:
	bash deploy/demo.sh stop

clean: stop
	rm -rf var
