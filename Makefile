# Developer entry points for juki. `make test` is what CI runs (see .ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(VENV)/bin
SETUP_STAMP := $(VENV)/.setup-stamp

DEMO_ARGS   ?=
PYTEST_ARGS ?=
BENCH_ARGS  ?=

.PHONY: help setup demo test test-fast test-slow check fix bench clean

help:
	@echo "make setup   - install uv / system packages, sync .venv (scripts/setup.sh)"
	@echo "make demo    - start the demo network under var/demo-network, one process per node (DEMO_ARGS=...)"
	@echo "make test    - lint, format, import layers, then every test with the type check beside it (PYTEST_ARGS=...)"
	@echo "make test-fast - the edit loop: unit tests only, no PostgreSQL, browser or processes"
	@echo "make test-slow - the load and long runs kept out of make test"
	@echo "make check   - lint, format check, type check and import layers only"
	@echo "make fix     - apply ruff fixes and formatting"
	@echo "make bench   - run the benchmarks (BENCH_ARGS=...)"
	@echo "make soak    - run many simulator seeds on every core (SOAK_ARGS=...)"
	@echo "make clean   - remove var/ and tool caches"

# Re-run setup only when its inputs change (or the venv is gone).
$(SETUP_STAMP): pyproject.toml uv.lock scripts/setup.sh
	bash scripts/setup.sh
	@touch $@

setup: $(SETUP_STAMP)

demo: setup
	$(BIN)/juki demo $(DEMO_ARGS)

# Two workers, one per core; a module runs whole on one worker (--dist loadscope), so its
# module-scoped fixtures (a network of node processes, served apps) are built once.
# mypy (about a minute of one core from a clean clone) runs beside pytest: the two workers
# leave a core idle about a quarter of the time (waiting on node processes, browsers, the
# slowest module at the end). Its report follows pytest's; either failing fails the target.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	@log=$$(mktemp); $(BIN)/mypy >"$$log" 2>&1 & mypy=$$!; \
	$(BIN)/pytest -n 2 --dist loadscope $(PYTEST_ARGS); tests=$$?; \
	wait $$mypy; types=$$?; echo "$(BIN)/mypy (beside pytest)"; cat "$$log"; rm -f "$$log"; \
	test $$tests -eq 0 && test $$types -eq 0

test-slow: setup
	$(BIN)/pytest -n 2 --dist loadscope -m slow $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -q tests/unit $(PYTEST_ARGS)

check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

fix: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var/ .pytest_cache/ .mypy_cache/ .ruff_cache/ .hypothesis/ test-artifacts/
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

# Many seeded simulations (docs/simulation.md), one per core; prints simulated node-days/s.
.PHONY: soak
soak: setup
	$(BIN)/python -m juki.sim.soak $(SOAK_ARGS)
