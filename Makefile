# concurrency-bench: `make bench` measures, `make test` checks.  Both create the
# virtual environment in .venv on first use and reinstall when pyproject.toml changes.
#
# `make bench PYTHON=/path/to/python` measures under another interpreter, in an
# environment of its own under .venvs/ holding only what measuring needs; the test server
# and the report stay on .venv's Python.  `make interpreters PYTHONS="a b c"` does that for
# several interpreters into one run folder and one report.

BASE_PYTHON ?= python3
PYTHON ?=
PYTHONS ?=
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNS := results/runs
# Extra pytest options for `make bench`, e.g. BENCH_ARGS="--workload http --rounds 10".
BENCH_ARGS ?=
# Extra pytest options for `make test`, e.g. TEST_ARGS="--durations=20".
TEST_ARGS ?=

# `make service`: service mode (bench/service.py), each deployment's saturation under a
# 50 ms SLO: the twins served by uvicorn and gunicorn (bench/runners/apps.py), loaded from
# generator processes of their own, on the http workload (deployment -> local test server)
# and a wait-then-compute handler (20 ms wait, then the sum of 70,000 squares: its pure-
# Python time depends on the machine, and the report gives the CPU each request took).
# The in-process models instead:
# make service SERVICE_RUNNERS=asyncio,threads,processes SERVICE_C=16
SERVICE_RUNNERS ?= app-uvicorn,app-uvicorn-workers,app-gunicorn-sync,app-gunicorn-gthread
SERVICE_C ?= 256
SERVICE_ARGS ?= --workload http,mixed --mixed-wait-ms 20 --mixed-n 70000 \
	--runner $(SERVICE_RUNNERS) --concurrency $(SERVICE_C) \
	--rate auto --duration-s 2 --slo-ms 50

.PHONY: all bench claims charts docs interpreters service test lint clean

all: test

# uv installs (30 s where pip took 96 s here); pip only puts uv in.  Every installed module
# is compiled at install, as pip does: where PYTHONDONTWRITEBYTECODE is set, nothing is
# compiled later, and each process would compile pandas and the rest anew (10 s an import).
# uv's temporary files (a lock file per build of the project, left in /tmp otherwise) go
# inside the environment, and leave with it.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(BASE_PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv>=0.5'
	TMPDIR=$(abspath $(VENV)) $(BIN)/python -m uv pip install --quiet --compile-bytecode \
		--python $(BIN)/python -e '.[report,dev,subinterpreters,uvloop,servers,dask,db]'
	@touch $@

# $(call run_suite,FOLDER-SUFFIX,PYTEST-TARGET): each run gets a new folder named by its
# UTC start time, never an existing one.  pytest-benchmark writes a partial file that is
# renamed only when the run succeeds; a failed or interrupted run leaves nothing behind.
define run_suite
	@run=$(RUNS)/$$(date -u +%Y%m%dT%H%M%SZ)$(1); mkdir -p $(RUNS) && mkdir $$run || exit 1; \
	partial=$$run/.benchmark.json.partial; \
	trap 'rm -f $$partial; rmdir $$run 2>/dev/null; echo "interrupted: no results kept" >&2; exit 130' INT TERM; \
	echo "run folder: $$run"; \
	if $(BIN)/python -m pytest $(2) --benchmark-only --benchmark-json=$$partial $(BENCH_ARGS); then \
		mv $$partial $$run/benchmark.json && echo "wrote $$run/benchmark.json" && \
		$(BIN)/python scripts/report.py $$run/benchmark.json; \
	else \
		status=$$?; rm -f $$partial; rmdir $$run 2>/dev/null; \
		echo "benchmark run failed (exit $$status); no results kept"; exit $$status; \
	fi
endef

bench: $(STAMP)
ifeq ($(strip $(PYTHON)),)
	$(call run_suite,,bench)
else
	$(BIN)/python scripts/interpreters.py run $(PYTHON) -- $(BENCH_ARGS)
endif

# The suite under each of PYTHONS, one run folder, one report (an interpreter column);
# INTERLEAVE=P (with --rounds N in BENCH_ARGS) takes turns, pass by pass, P passes.
interpreters: $(STAMP)
	@test -n "$(strip $(PYTHONS))" || { echo 'give the interpreters: make interpreters PYTHONS="python3.11 python3.13"' >&2; exit 2; }
	$(BIN)/python scripts/interpreters.py run $(if $(strip $(INTERLEAVE)),--interleave $(INTERLEAVE)) $(PYTHONS) -- $(BENCH_ARGS)

# The claims run: every claim's scenarios, then the report with its verdicts.
claims: $(STAMP)
	$(call run_suite,-claims,bench/claims_suite.py)

# Offered load in, latency and saturation out: every model swept up to its saturation.
service: $(STAMP)
	$(call run_suite,-service,bench $(SERVICE_ARGS))

# Report on the newest run (or on RUN=a run folder or its benchmark.json), into that folder.
charts: $(STAMP)
	$(BIN)/python scripts/report.py $(RUN)

# The tests spread over two processes (pytest-xdist), an idle one taking tests from the other
# (worksteal: 8:35 against 9:25-9:54 handing out whole files, on this machine).  The
# project's own modules are compiled first: the tests start a few hundred Pythons, and
# where PYTHONDONTWRITEBYTECODE is set each would compile them anew.
test: $(STAMP)
	@$(BIN)/python -m compileall -q bench workloads scripts tests
	$(BIN)/python -m pytest tests -n 2 --dist worksteal $(TEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bench workloads scripts tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .venvs build *.egg-info .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# The generated blocks of README.md and docs/, made anew from results/reference.
docs: $(STAMP)
	$(BIN)/python scripts/docs.py
