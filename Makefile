# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test lint install clean

$(PY):
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed (PYTHON=python3.11 make ...)")'
	$(PYTHON) -m venv $(VENV)

# Stamps re-run the install when pyproject.toml changes. The demo takes the metrics extra so its
# report shows objective metrics beside the ratings (its models ship in the wheels).
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[metrics]'
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

# Web server + Celery worker on the embedded default (or on DATABASE_URL / CELERY_BROKER_URL).
demo: $(VENV)/.installed
	$(PY) -m evalsite.launcher

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests keep their own var/ folder so they never touch the demo's database or media; its broker
# folder starts empty so no task queued by an earlier run reaches this run's workers.
test: lint
	rm -rf var/test/broker var/test/celery-results
	EVALSITE_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/test .pytest_cache .ruff_cache
