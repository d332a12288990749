# Rebound: `make help` lists the targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Every Celery queue (config/settings/base.py, docs/SCALING.md).
QUEUES := default,sends,answers,ticks,analytics
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help run test test-faults lint format migrate seed worker messages check-deploy bench clean screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements-ai.txt $(VENV)/.runtime
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime ## Install, load demo data, serve on http://127.0.0.1:8000 with a Celery worker and beat (SQLite, no services)
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Rebound runs at http://$(HOST):$(PORT)/  (outbox: http://$(HOST):$(PORT)/outbox/). Ctrl-C stops it."
	@echo ""
	@# The worker runs in a session of its own, so Ctrl-C reaches only runserver; on the way out the
	@# worker gets exactly one TERM (a warm shutdown) and is waited for: no orphan, no signal storm.
	@setsid $(VENV)/bin/celery -A config worker -B --pool=solo -Q $(QUEUES) --loglevel=warning & worker=$$!; \
	trap 'trap - INT TERM EXIT; kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null; exit 0' INT TERM EXIT; \
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: $(VENV)/.runtime ## Run only a Celery worker with beat, consuming every queue
	$(VENV)/bin/celery -A config worker -B --pool=solo -Q $(QUEUES) --loglevel=info

test: $(VENV)/.dev ## Run the whole test suite (PostgreSQL and Redis when they answer, else SQLite)
	$(VENV)/bin/pytest

test-faults: $(VENV)/.dev ## Only the fault tests: killed workers, Redis down, bad mail servers (docs/RELIABILITY.md)
	$(VENV)/bin/pytest -m faults -s

screenshots: $(VENV)/.dev ## Refresh the README's Tour (docs/screenshots/) from the browser walk (needs Debian's chromium)
	SCREENSHOTS_DIR=docs/screenshots $(VENV)/bin/pytest tests/test_browser.py -k walks -q

lint: $(VENV)/.dev ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.dev ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

migrate: $(VENV)/.runtime ## Apply database migrations
	$(PY) manage.py migrate

seed: $(VENV)/.runtime ## Load demo data (idempotent)
	$(PY) manage.py seed_demo

messages: $(VENV)/.runtime ## Update locale/*/django.po from the code and compile them (needs gettext)
	$(PY) manage.py makemessages --all --ignore=.venv --ignore=bench --ignore=tests --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv

check-deploy: $(VENV)/.runtime ## Django's deployment checks with production settings (needs SECRET_KEY etc.)
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py check --deploy --fail-level WARNING

bench: $(VENV)/.dev ## Run the benchmarks under bench/ (see bench/README.md)
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean: ## Remove the virtualenv, local database and runtime files
	rm -rf $(VENV) var db.sqlite3 staticfiles
