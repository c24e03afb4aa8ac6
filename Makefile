# Every target works on a fresh machine with only Python >= 3.11: the venv and pinned dependencies come first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ARGS ?=

.PHONY: install serve test lint typecheck unit bench bench-http docs check-docs clean contracts fuzz screenshots

$(STAMP): pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/klingsim serve --host $(HOST) --port $(PORT) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check simulator contracts tests benchmarks examples
	$(BIN)/ruff format --check simulator contracts tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

check-docs: $(STAMP)
	$(BIN)/python -m klingsim.cli inferred --check docs/inferred.md

docs: $(STAMP)
	$(BIN)/python -m klingsim.cli inferred > docs/inferred.md

unit: $(STAMP)
	CI=$${CI:-true} $(BIN)/python -m pytest -q -n 2

test: lint typecheck check-docs unit

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_roundtrip.py
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_media.py
	$(BIN)/python benchmarks/bench_gateway.py

# A million jobs created and finished in one process: RSS stays within 500 MB (a few minutes).
bench-million: $(STAMP)
	$(BIN)/python benchmarks/bench_million.py $(ARGS)

# klingsim against a bare FastAPI mock over HTTP (wrk if installed, else a bounded Python load generator).
bench-http: $(STAMP)
	$(BIN)/python benchmarks/bench_http.py $(ARGS)

# The gateway kit's self-test and all 30 mutants (also part of `unit`), then its run time per provider.
contracts: $(STAMP)
	CI=$${CI:-true} $(BIN)/python -m pytest -q -n 2 tests/contracts
	$(BIN)/python benchmarks/bench_gateway.py

# Hostile input, not part of `test`: schemathesis against `klingsim serve` for FUZZ_MINUTES per provider
# (0 server errors wanted), then the hostile-value property test with many more examples.
FUZZ_MINUTES ?= 10
fuzz: $(STAMP)
	$(BIN)/python benchmarks/fuzz.py --minutes $(FUZZ_MINUTES)
	KLINGSIM_HOSTILE_EXAMPLES=2000 $(BIN)/python -m pytest -q tests/unit/test_hostile_property.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build

# The dashboard's screenshots in docs/screenshots, taken by its browser test (needs Debian's chromium).
screenshots: $(STAMP)
	KLINGSIM_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/e2e/test_dashboard_browser.py
