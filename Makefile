# The README's two commands: `make run` and `make test`. Nothing but Python is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app

.PHONY: run test test-sqlite test-postgres lint install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo --if-empty
	$(BIN)/flask demo-logins
	@# The Mollie simulator (MOLLIE_API_ENDPOINT's development default) runs as long as the app.
	$(BIN)/python -m mollie_simulator --port 5001 --public-url http://127.0.0.1:5001 & \
	simulator=$$!; trap 'kill $$simulator 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install-dev test-sqlite test-postgres

test-sqlite: install-dev
	$(BIN)/pytest

test-postgres: install-dev
	PORTAIL_TEST_DB=postgres $(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
