# Torget: run, test, lint and benchmark from a fresh clone.
#
#   make run [ARGS="--config my.toml"]   install into .venv if needed, then `torget serve`
#   make test        system packages (apt) + Python install, then the whole suite
#   make test-fast   Python install, then the quick tier (-m "not slow")
#   make test-cluster  the shipped shape (nginx, PostgreSQL, Redis, two nodes) under faults
#   make lint        ruff format --check, ruff check, mypy --strict, import layers
#   make lock        re-pin requirements*.lock from pyproject.toml (pip-tools)
#   make format      ruff format + ruff check --fix
#   make bench       run the benchmarks into BENCHMARKS.md
#   make assets      npm install in web/frontend, vendor hls.js into web/static/vendor
#   make clean       remove .venv and caches (never data/)

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
STAMP_RUN := $(VENV)/.stamp-run
ARGS   ?=
FRONTEND   := web/frontend
VENDOR     := web/static/vendor
VENDOR_HLS := $(VENDOR)/hls.min.mjs

# apt never asks questions.
APT_ENV := DEBIAN_FRONTEND=noninteractive

.PHONY: help run install deps-system test test-fast test-cluster lint format bench clean assets lock

help:
	@sed -n '3,12s/^# //p' $(firstword $(MAKEFILE_LIST))

# --- Python environment ------------------------------------------------------------------

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "make: no python3.11 or python3 on PATH" >&2; exit 1; fi
	@echo "$(PYTHON) -m venv $(VENV)"
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "make: '$(PYTHON) -m venv' failed; on Debian install python3-venv" >&2; \
	  rm -rf $(VENV); exit 1; }

# Install the pinned versions of requirements*.lock, then Torget itself (editable, no deps);
# again only when the lock file or pyproject.toml is newer than the stamp (the stamps live in
# the venv, so removing .venv also forgets them).
$(STAMP): pyproject.toml requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install -r requirements-dev.lock
	$(BIN)/python -m pip install --no-deps -e .
	@touch $@ $(STAMP_RUN)

$(STAMP_RUN): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install -r requirements.lock
	$(BIN)/python -m pip install --no-deps -e .
	@touch $@

install: $(STAMP)

run: $(STAMP_RUN) $(VENDOR_HLS)
	exec $(BIN)/torget serve $(ARGS)

# --- Browser assets: hls.js from npm, vendored (and committed) so a fresh clone runs without npm

assets:
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	mkdir -p $(VENDOR)
	cp $(FRONTEND)/node_modules/hls.js/dist/hls.min.mjs $(FRONTEND)/node_modules/hls.js/dist/hls.worker.js $(VENDOR)/
	cp $(FRONTEND)/node_modules/hls.js/LICENSE $(VENDOR)/hls.js.LICENSE.txt
	@node -e 'console.log("hls.js " + require("./$(FRONTEND)/node_modules/hls.js/package.json").version)' > $(VENDOR)/hls.js.VERSION.txt

$(VENDOR_HLS):
	$(MAKE) assets

# --- System packages (only what is missing; apt-get update only if something is) ---------

deps-system:
	@set -eu; \
	pkgs=""; \
	command -v redis-server >/dev/null 2>&1 || pkgs="$$pkgs redis-server"; \
	{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || pkgs="$$pkgs ffmpeg"; \
	[ -x /usr/bin/chromium ] || pkgs="$$pkgs chromium"; \
	compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || pkgs="$$pkgs postgresql"; \
	command -v npm >/dev/null 2>&1 || pkgs="$$pkgs nodejs npm"; \
	[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || pkgs="$$pkgs fonts-dejavu-core"; \
	[ -x /usr/sbin/nginx ] || pkgs="$$pkgs nginx"; \
	if [ -z "$$pkgs" ]; then echo "system packages: all present"; exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "make: need root or sudo to install:$$pkgs" >&2; exit 1; fi; \
	echo "installing system packages:$$pkgs"; \
	$$sudo env $(APT_ENV) apt-get update; \
	$$sudo env $(APT_ENV) apt-get install -y $$pkgs

# --- Tests, lint, benchmarks -------------------------------------------------------------

# The whole suite, the cluster tier (pytest marker cluster, tests/e2e/cluster) included;
# make test-cluster runs that tier alone. Tests marked beside (the ten-minute broadcast: it
# waits more than it works, about 0.4 of a core) run in a second pytest process beside the
# rest, ahead of it for the CPU (nice -10 as root: the broadcast is a healthy node's, which
# the rest of the suite must not starve); their output follows the suite's, and either
# failing fails make test.
BESIDE_LOG := test-artifacts/beside.log
test: deps-system $(STAMP) $(VENDOR_HLS)
	@mkdir -p test-artifacts
	@nice -n -10 $(BIN)/pytest -q -p no:cacheprovider --basetemp=test-artifacts/beside-tmp -m beside \
		> $(BESIDE_LOG) 2>&1 & beside=$$!; \
	$(BIN)/pytest -q --durations=20 -m "not beside"; suite=$$?; \
	wait $$beside; besides=$$?; \
	echo "--- beside the suite (-m beside): $(BESIDE_LOG)"; cat $(BESIDE_LOG); \
	[ $$suite -eq 0 ] && [ $$besides -eq 0 ]

test-cluster: deps-system $(STAMP) $(VENDOR_HLS)
	$(BIN)/pytest -q --durations=10 -m cluster tests/e2e/cluster

test-fast: $(STAMP) $(VENDOR_HLS)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Pins: change the ranges in pyproject.toml, then `make lock` and commit both lock files.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra ffmpeg -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra ffmpeg --extra dev -o requirements-dev.lock pyproject.toml

bench: deps-system $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
	find . -path ./data -prune -o -path ./node_modules -prune -o \
	  -type d -name __pycache__ -prune -exec rm -rf {} +
