# `make up` and `make test` bootstrap everything they need on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= $(HOME)/.kube-lite

.PHONY: up test lint venv system-deps bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

system-deps:
	./scripts/install-system-deps.sh

up: venv
	$(BIN)/kube-lite up --data-dir $(DATA_DIR)

lint: venv
	$(BIN)/ruff check .

test: venv system-deps lint
	$(BIN)/pytest --hypothesis-profile=ci

bench: venv system-deps
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
