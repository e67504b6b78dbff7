# Sieve: `make run` to use it, `make test` to test it. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run serve worker test test-browser lint bench load fuzz faults audit migrate demo check-deploy clean

help:
	@echo "make run      install, migrate, load the demo review (first start only), serve on http://$(HOST):$(PORT) with a worker"
	@echo "make demo     install, migrate, load the demo review if missing and print its login"
	@echo "make test     install with the dev extra and run every test"
	@echo "make worker   a Celery worker (for DATABASE_URL/REDIS_URL set-ups)"
	@echo "make lint     ruff and mypy"
	@echo "make bench    benchmarks under tests/bench, each printing a ratio against its baseline"
	@echo "make load     50 reviewers at once against gunicorn + PostgreSQL + Redis + a worker (locust, loopback)"
	@echo "make faults   kill workers and restart Redis/PostgreSQL mid-work (also part of make test)"
	@echo "make fuzz     coverage-guided fuzzing of every importer (atheris), FUZZ_SECONDS per importer"
	@echo "make audit    check --deploy on production settings, pip-audit and bandit against security-exceptions.toml"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Sieve needs Python 3.11 or newer; set PYTHON=python3.11 (or newer).")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

migrate: $(VENV)/.installed
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	@echo "Sieve is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops the server and its worker)"
	$(PY) manage.py serve $(HOST):$(PORT)

worker: $(VENV)/.installed
	$(PY) -m celery -A config worker --beat --schedule var/celerybeat-schedule --loglevel=INFO

test: $(VENV)/.installed-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

bench: $(VENV)/.installed-dev
	$(PY) -m pytest tests/bench -o python_files='bench_*.py' -p no:randomly -q -s

LOAD_ARGS ?=
load: $(VENV)/.installed-dev
	$(PY) -m tests.load.run $(LOAD_ARGS)

faults: $(VENV)/.installed-dev
	$(PY) -m pytest tests/faults -p no:randomly -v $(PYTEST_ARGS)

FUZZ_SECONDS ?= 60
$(VENV)/.installed-fuzz: $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e ".[dev,fuzz]"
	@touch $@

fuzz: $(VENV)/.installed-fuzz
	$(PY) -m tests.fuzz.run --seconds $(FUZZ_SECONDS)

audit: $(VENV)/.installed-dev
	$(PY) -m core.security_audit

check-deploy: $(VENV)/.installed
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$${SECRET_KEY:-check-deploy-only-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-sieve.example.org} $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
