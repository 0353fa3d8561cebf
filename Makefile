# Bosun — every entry point a developer or CI needs.
#   make demo      set up .venv and run the offline demo (scripted model, real git)
#   make test      set up and run every check and test (what CI runs)
#   make check     lint, types, generated-file staleness (Python and the extension)
#   make generate  regenerate protocol/schema and the extension's protocol types
#   make bench     run the benchmarks (prints figures and ratios; not part of test)
#   make vsix      build the VS Code extension package

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EXT := vscode-extension
PYTEST_ARGS ?=

.PHONY: setup demo test check generate bench lint types schema-check pytest \
	ext-check ext-unit ext-e2e vsix screenshots clean

setup: $(STAMP)

# The environment here sets PYTHONDONTWRITEBYTECODE, so nothing would ever be cached:
# compile once at setup, or every `bosun lsp` an editor starts pays for it.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored: it is neither" || true
	$(PY) -c "import bosun, bosun_protocol, pygls, pytest_lsp, acp, psycopg"
	bash scripts/install-sandbox.sh
	bash scripts/install-postgres.sh
	$(PY) -m compileall -q -j 0 daemon protocol >/dev/null
	touch $(STAMP)

demo: setup
	$(VENV)/bin/bosun demo

lint: setup
	$(VENV)/bin/ruff check daemon protocol tests bench
	$(VENV)/bin/ruff format --check daemon protocol tests bench

types: setup
	$(VENV)/bin/mypy

schema-check: setup
	$(PY) -m bosun_protocol.schema_export protocol/schema --check
	$(PY) -m bosun.config_docs docs/configuration.md --check

ext-check: setup
	$(MAKE) -C $(EXT) check

check: lint types schema-check ext-check

generate: setup
	$(PY) -m bosun_protocol.schema_export protocol/schema
	$(PY) -m bosun.config_docs docs/configuration.md
	$(MAKE) -C $(EXT) generate

pytest: setup
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

ext-unit: setup
	$(MAKE) -C $(EXT) unit

ext-e2e: setup
	$(MAKE) -C $(EXT) e2e

test: check pytest ext-unit ext-e2e

bench: setup
	$(PY) -m bench

vsix: setup
	$(MAKE) -C $(EXT) vsix

screenshots: setup
	$(MAKE) -C $(EXT) screenshots

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	$(MAKE) -C $(EXT) clean
