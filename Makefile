# navan-voice: `make run` starts the local stack, `make test` runs the test suite.
# Both install whatever is missing first (system packages, Python env, livekit-server).
SHELL := /bin/bash
VENV := .venv
NV := $(VENV)/bin/navan-voice

.PHONY: install run test test-fast lint bench clean

install:
	@scripts/install-system-deps.sh
	@scripts/bootstrap-python.sh
	@scripts/install-livekit-server.sh >/dev/null
	@scripts/build-web.sh
	@scripts/install-livekit-sip.sh >/dev/null
	@echo "install: done"

run: install
	$(NV) up

test: install
	@scripts/run-tests.sh

test-fast: install
	$(VENV)/bin/pytest -m unit -q

lint:
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: install
	$(VENV)/bin/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
