# Bosun — every entry point a developer or CI needs.
#   make demo      set up .venv and run the offline demo
#   make test      set up and run every check and test (what CI runs)
#   make check     lint, types, generated-file staleness
#   make generate  regenerate protocol/schema and the extension's protocol types
#   make bench     run the benchmarks (prints figures; not part of test)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test check generate bench lint types pytest clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>/dev/null
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c "import bosun, bosun_protocol, pygls, pytest_lsp"
	touch $(STAMP)

demo: setup
	$(VENV)/bin/bosun demo

lint: setup
	$(VENV)/bin/ruff check daemon protocol tests bench
	$(VENV)/bin/ruff format --check daemon protocol tests bench

types: setup
	$(VENV)/bin/mypy

check: lint types

pytest: setup
	$(VENV)/bin/pytest -q

test: check pytest

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
