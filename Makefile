# The README's two commands: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium

.PHONY: install run test

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

# Leaflet, ECharts and the Socket.IO client for the pages, from npm: nothing loads from a CDN at run time.
$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund

# Debian's Chromium (and CJK fonts for the screenshots) for the browser tests; never a downloaded browser.
$(CHROMIUM):
	command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium fonts-noto-cjk) || echo "Chromium not installed: browser tests will skip"

install: $(INSTALLED) $(NODE_INSTALLED)

run: install
	$(PY) -m webapp serve

test: install $(CHROMIUM)
	YOLO_OFFLINE=1 $(PY) -m pytest
