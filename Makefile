# The README's two commands: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium

.PHONY: install run test

$(INSTALLED): requirements.txt
	@echo "==> Python packages: creating $(VENV) and installing requirements.txt (the first time takes a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar off -r requirements.txt
	touch $(INSTALLED)

# Leaflet, ECharts and the Socket.IO client for the pages, from npm: nothing loads from a CDN at run time.
$(NODE_INSTALLED): package.json package-lock.json
	@echo "==> Browser libraries: npm ci (Leaflet, ECharts, Socket.IO client) into node_modules/"
	npm ci --no-audit --no-fund

# Debian's Chromium (and CJK fonts for the screenshots) for the browser tests; never a downloaded browser.
$(CHROMIUM):
	command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium fonts-noto-cjk) || echo "Chromium not installed: browser tests will skip"

# poppler-utils: pdftotext/pdftoppm, which the case-file tests read and render the PDFs with.
PDFTOPPM := /usr/bin/pdftoppm
$(PDFTOPPM):
	command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq poppler-utils) || echo "poppler-utils not installed: case-file tests will skip"

# The CJK font the case-file PDFs embed (config casefile.font_file): TrueType outlines, which ReportLab can
# embed (Noto CJK's CFF outlines it cannot).
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc
$(CJK_FONT):
	command -v apt-get >/dev/null && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq fonts-wqy-zenhei) || echo "fonts-wqy-zenhei not installed: case-file PDFs will fail"

install: $(INSTALLED) $(NODE_INSTALLED) $(CJK_FONT)

run: install
	@echo "==> Starting GridPatrol (first start: migrating the SQLite database and generating the demo city)"
	$(PY) -m webapp serve

test: install $(CHROMIUM) $(PDFTOPPM)
	YOLO_OFFLINE=1 $(PY) -m pytest
