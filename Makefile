# The two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PASSWORD ?= demo-calendar-2026

.PHONY: run test test-browser lint lint-code lint-types lint-imports lint-migrations lint-checks install install-dev messages bench load clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Compiled catalogues (.mo) are committed; recompile when GNU gettext is here.
messages: | $(BIN)/python
	@if command -v msgfmt >/dev/null 2>&1; then $(BIN)/python manage.py compilemessages --ignore=.venv -v0; \
	else echo "GNU gettext not found: using the committed translations."; fi

run: install messages
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py sync_schedules -v0
	$(BIN)/python manage.py seed_demo --if-empty --password "$(DEMO_PASSWORD)"
	@echo "Open http://$(HOST):$(PORT)/ and log in as one of the demo users above."
	@# One command, three processes: the web server, the task worker and the publishing
	@# dispatcher. Ctrl-C stops all three: each background one is asked to stop, given 10 s,
	@# then killed with its children (qcluster can hang on SIGTERM).
	@setsid $(BIN)/python manage.py qcluster & QPID=$$!; \
	setsid $(BIN)/python manage.py dispatch & DPID=$$!; \
	trap 'kill -INT -$$QPID -$$DPID 2>/dev/null; for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 $$QPID 2>/dev/null || kill -0 $$DPID 2>/dev/null || exit 0; sleep 1; done; kill -KILL -$$QPID -$$DPID 2>/dev/null' INT TERM EXIT; \
	$(BIN)/python manage.py runserver $(HOST):$(PORT) --noreload

# In parallel, one process a CPU (pytest-xdist), each with its own test database.
test: install-dev
	$(BIN)/python -m pytest -m "not browser" -n auto $(PYTEST_ARGS)

test-browser: install-dev
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest -m browser tests/browser $(PYTEST_ARGS)

# Each piece is its own target, so that `make -k lint` (as CI runs it) reports every one.
lint: lint-code lint-types lint-imports lint-migrations lint-checks

lint-code: install-dev
	$(BIN)/ruff check .

# mypy with django-stubs; what it checks and how strictly is in mypy.ini.
lint-types: install-dev
	$(BIN)/mypy

# The import contracts in pyproject.toml: calendar_app uses diplomacy, never the reverse;
# views use the workflow, the workflow uses the models, never upwards.
lint-imports: install-dev
	$(BIN)/lint-imports --no-cache --no-logo

lint-migrations: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

lint-checks: install-dev
	$(BIN)/python manage.py check --fail-level WARNING

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) staticfiles

load: install-dev
	$(BIN)/python bench/load.py
