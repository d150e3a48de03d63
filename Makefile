# Taiwa — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app
export PYTHONDONTWRITEBYTECODE := 1

APT_RUN := fonts-noto-cjk fonts-ipaexfont libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b poppler-utils
APT_TEST := chromium postgresql redis-server redis-tools

.PHONY: run test fuzz bench lint setup setup-dev system-packages system-packages-test translations instance-keys db-upgrade clean

run: setup db-upgrade
	umask 077; $(BIN)/flask seed-demo --if-empty
	@echo "Taiwa: http://127.0.0.1:$(PORT)  (demo accounts: instance/demo-accounts.json)"
	umask 077; PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) "app:create_app()"

test: setup-dev system-packages-test
	$(BIN)/ruff check .
	scripts/run-tests.sh

fuzz: setup-dev system-packages-test
	scripts/run-fuzz.sh

bench: setup-dev system-packages-test
	scripts/run-bench.sh

lint: setup-dev
	$(BIN)/ruff check .

setup: system-packages $(BIN)/.installed translations instance-keys

setup-dev: setup $(BIN)/.installed-dev

system-packages:
	@scripts/apt-ensure.sh $(APT_RUN)

system-packages-test:
	@scripts/apt-ensure.sh $(APT_TEST)

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/.installed
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d translations 2>&1 | tail -n 1

instance-keys: $(BIN)/.installed
	mkdir -p instance && chmod 700 instance
	$(BIN)/python -c "from clearance.config import ensure_secret_key; ensure_secret_key()"
	@# Development keys for an empty database only: a database with data and no key file refuses (docs/OPERATIONS.md).
	@$(BIN)/python -m clearance.startup dev-keys

db-upgrade: setup
	umask 077; $(BIN)/flask db upgrade heads

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
