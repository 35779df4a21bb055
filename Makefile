# streamrec: `make demo` runs the whole stack locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
SWAGGER_UI_VERSION := 5.35.0
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css LICENSE NOTICE

.PHONY: install browser test lint bench demo stop clean screenshots swagger-ui

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# Headless Chromium for the console tests: Debian's package, driven by Playwright.
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "the console tests need $(CHROMIUM): run 'sudo apt-get install chromium'" >&2; exit 1; \
	  fi; }

test: install browser
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	$(PY) -m bench.stream.publish
	$(PY) -m bench.stream.throughput
	$(PY) -m bench.stream.freshness
	$(PY) -m bench.serve.throughput
	$(PY) -m bench.offline.train
	$(PY) -m bench.offline.quality
	$(PY) -m bench.offline.protocols

demo: install
	bash deploy/demo.sh start

stop:
	bash deploy/demo.sh stop

clean: stop
	rm -rf var

# docs/console/*.png from a running worker (make demo first; STREAMREC_URL to point elsewhere).
screenshots: install browser
	PYTHONPATH=. $(PY) deploy/console_screenshots.py

# Re-vendor Swagger UI (npm's swagger-ui-dist, Apache-2.0) into api/console/swagger/.
swagger-ui:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack -q swagger-ui-dist@$(SWAGGER_UI_VERSION) >/dev/null \
	  && tar xzf swagger-ui-dist-$(SWAGGER_UI_VERSION).tgz \
	  && cd package && cp $(SWAGGER_UI_FILES) $(CURDIR)/api/console/swagger/ && rm -rf $$tmp
	echo "swagger-ui-dist $(SWAGGER_UI_VERSION) (npm), Apache-2.0; refresh with: make swagger-ui" \
	  > api/console/swagger/VERSION
