# Two commands on a fresh machine: `make run` and `make test`. Both create (or reuse) .venv first.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Prefect keeps its state in the project, sends nothing anywhere, and runs an ephemeral API.
PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_HOME
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: install run test lint check bench bytecode clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Replays seeds/ into a fresh demo database and prints the developments and alerts.
run: $(STAMP)
	@mkdir -p .run && rm -f .run/replay.db .run/replay.db-wal .run/replay.db-shm
	$(BIN)/watchfloor replay seeds/ --db sqlite:///.run/replay.db

# The checks, in order, each named before it runs; the first that fails stops them (its status).
# A shell loop rather than a sub-make, so that `make -n test` runs nothing.
RUN_LINT = for check in "ruff check ." "ruff format --check ." lint-imports mypy; do \
	echo "$(BIN)/$$check"; $(BIN)/$$check || exit; done

lint: $(STAMP)
	@$(RUN_LINT)

# Tests run in TEST_WORKERS parallel pytest-xdist workers (many of them wait on subprocesses and
# servers rather than compute: two of them spend minutes waiting for a bench's cron ticks, and
# no test keeps a core busy all the time, so four others keep both cores busy meanwhile; warm
# runs on an idle 2-core machine: 5 workers 366 s, 6 348 s, 7 363 s, each worker's start and
# Prefect test API costing more CPU than it fills); `make test TEST_WORKERS=0` runs them in one
# process.
TEST_WORKERS ?= 6
# pytest rewrites the asserts of every test module it imports (~2.2 CPU-s a process for the whole
# suite, in each worker) and keeps the result beside the module's bytecode, unless
# PYTHONDONTWRITEBYTECODE is set: unset for pytest, a run reuses what the last one rewrote.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
# When a test file changed since (on a fresh checkout: always), `make test` first writes them all
# in one process (tests/assertcache.py, ~3.3 CPU-s) rather than in each worker at once.
ASSERTS_STAMP := tests/__pycache__/assertcache.stamp

# Lint (ruff, the import contracts, mypy: ~15 s of one core on a fresh checkout) runs beside the
# tests, which keep both cores busy, rather than before them while the other core idles; its
# output comes after the tests', and `make test` fails if either failed.
test: bytecode
	@lint_log=$$(mktemp); \
	( $(RUN_LINT) ) >"$$lint_log" 2>&1 & lint_pid=$$!; \
	if [ ! -e $(ASSERTS_STAMP) ] || [ -n "$$(find tests -name '*.py' -newer $(ASSERTS_STAMP))" ]; \
	then \
		asserts=$$($(PYTEST) -p tests.assertcache -q -p no:cacheprovider 2>&1) \
			&& touch $(ASSERTS_STAMP) || echo "$$asserts"; \
	fi; \
	$(PYTEST) -n $(TEST_WORKERS); tests_status=$$?; \
	wait $$lint_pid; lint_status=$$?; \
	echo "--- make lint, run beside the tests (exit $$lint_status):"; \
	cat "$$lint_log"; rm -f "$$lint_log"; \
	if [ $$tests_status -ne 0 ]; then echo "make test: the tests failed (exit $$tests_status)"; fi; \
	if [ $$lint_status -ne 0 ]; then echo "make test: make lint failed (exit $$lint_status)"; fi; \
	[ $$tests_status -eq 0 ] && [ $$lint_status -eq 0 ]

# The edit-test loop, in about a minute: lint, types, and the tests of the pure layers (core and
# detect: no Prefect, no store, no network). `make test` runs everything.
check: lint
	$(PYTEST) tests/core tests/detect -q -m "not slow and not postgres" --durations=5

bench: bytecode
	$(BIN)/python -m bench

# The tests and benchmarks start hundreds of Python processes. Where PYTHONDONTWRITEBYTECODE is
# set (this machine type sets it), each would compile the project's source anew, ~0.3 CPU-s for
# the flow stack, which an installed package (pip compiles it) does not pay: it is compiled once
# here, and Python reads the bytecode of a source unchanged since.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 core adapters db detect flows notify web bench tests >/dev/null

clean:
	rm -rf $(VENV) .prefect .run .pytest_cache .ruff_cache .mypy_cache *.egg-info
