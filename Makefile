# Two commands for people (see README):   make sing   |   make test
# Both are idempotent: a second run reuses the venv and the built widget.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.sounds-kit-installed
BUNDLE := sounds_kit/static/widget.js

.PHONY: sing test setup system-deps widget lint test-js test-py dist clean

# The main job: JupyterLab on (a working copy in work/notebooks of) the sing notebook.
sing: setup
	$(VENV)/bin/sounds-kit sing $(SING_ARGS)

# Everything the tests need, then every suite.
test: setup system-deps
	$(VENV)/bin/ruff check .
	$(MAKE) test-js
	$(MAKE) test-py

setup: $(STAMP) $(BUNDLE)

# Rebuild the widget bundle when its JS sources change (pip install -e builds it the first time).
$(BUNDLE): $(STAMP) $(shell find widgets/src -name '*.js' -o -name '*.json' 2>/dev/null)
	cd widgets && npm run build

$(STAMP): pyproject.toml widgets/package.json widgets/package-lock.json
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[train,jupyter,dev]"
	touch $(STAMP)

system-deps:
	bash scripts/install-system-deps.sh

widget:
	cd widgets && npm ci --no-audit --no-fund && npm run build

test-js: setup
	cd widgets && node --test test/

test-py: setup
	$(PY) -m pytest -ra

# The wheel and sdist that pip installs (the sdist carries the built bundle: no Node needed to install it).
dist: setup
	$(PY) -m build --outdir dist .

clean:
	rm -rf $(VENV) widgets/node_modules sounds_kit/static build dist
