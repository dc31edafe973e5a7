# concurrency-bench: `make bench` measures, `make test` checks.  Both create the
# virtual environment in .venv on first use and reinstall when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNS := results/runs
# Extra pytest options for `make bench`, e.g. BENCH_ARGS="--workload http --rounds 10".
BENCH_ARGS ?=

.PHONY: all bench claims charts test lint clean

all: test

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

# Each run gets a new folder named by its UTC start time; an existing one is never reused.
bench: $(STAMP)
	@run=$(RUNS)/$$(date -u +%Y%m%dT%H%M%SZ) && mkdir -p $(RUNS) && mkdir $$run && \
	echo "run folder: $$run" && \
	$(BIN)/python -m pytest bench --benchmark-only \
		--benchmark-json=$$run/.benchmark.json.partial $(BENCH_ARGS) && \
	mv $$run/.benchmark.json.partial $$run/benchmark.json && \
	echo "wrote $$run/benchmark.json" && \
	$(BIN)/python scripts/report.py $$run/benchmark.json

# The claims run: every claim's scenarios, then the report with its verdicts (~10 min).
claims: $(STAMP)
	@run=$(RUNS)/$$(date -u +%Y%m%dT%H%M%SZ)-claims && mkdir -p $(RUNS) && mkdir $$run && \
	echo "run folder: $$run" && \
	$(BIN)/python -m pytest bench/claims_suite.py --benchmark-only \
		--benchmark-json=$$run/.benchmark.json.partial $(BENCH_ARGS) && \
	mv $$run/.benchmark.json.partial $$run/benchmark.json && \
	$(BIN)/python scripts/report.py $$run/benchmark.json

# Report on the newest run (or on RUN=path/to/benchmark.json), into that run's folder.
charts: $(STAMP)
	$(BIN)/python scripts/report.py $(RUN)

test: $(STAMP)
	$(BIN)/python -m pytest tests

lint: $(STAMP)
	$(BIN)/ruff check bench workloads scripts tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
