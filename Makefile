# The two commands of the README: `make demo` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test lint install clean catalogues messages

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

# The listener interface's translations: each .mo is built from its .po when the .po is newer
# (pure Python, no GNU gettext needed). The .mo files are build outputs, never committed.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

locale/%.mo: locale/%.po | $(VENV)/.installed
	$(PY) -m evalsite.catalogues $<

catalogues: $(CATALOGUES)

# Re-extract the marked strings (needs GNU gettext's xgettext, a maintainer's tool only), then
# translate the new entries in every locale/<lang>/LC_MESSAGES/*.po.
MESSAGES_FLAGS := -l de -l fr -l es -l ja -l zh_Hans --no-obsolete --add-location=file \
	--ignore=tests --ignore=var --ignore=bench --ignore=build --ignore=examples
messages: $(VENV)/.installed
	$(PY) manage.py makemessages -d django $(MESSAGES_FLAGS)
	$(PY) manage.py makemessages -d djangojs $(MESSAGES_FLAGS)

# Web server + Celery worker on the embedded default (or on DATABASE_URL / CELERY_BROKER_URL).
demo: $(VENV)/.installed $(CATALOGUES)
	$(PY) -m evalsite.launcher

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Tests keep their own var/ folder so they never touch the demo's database or media; its broker
# folder starts empty so no task queued by an earlier run reaches this run's workers.
test: lint $(CATALOGUES)
	rm -rf var/test/broker var/test/celery-results
	EVALSITE_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var/test .pytest_cache .ruff_cache
