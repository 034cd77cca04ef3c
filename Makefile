# OneMap — two commands for a fresh machine: `make demo` and `make test`.
# Both install what is missing (Debian packages, a virtual environment) and are idempotent.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint deps venv db bench clean-db help

help:
	@echo "make demo   bring OneMap up on the demo county (prints where to open it)"
	@echo "make test   run the test suite against a real PostGIS"

demo: deps venv
	$(BIN)/onemap demo

test: deps venv lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the layout's arrows (import-linter contract in pyproject.toml); ruff (pyflakes, bugbear,
# complexity, pycodestyle, import order) and mypy (strict for domain/, geo/, config/, i18n/),
# both configured in pyproject.toml
lint: venv
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy

deps:
	@bash scripts/system-deps.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

db: deps venv
	$(BIN)/onemap db upgrade

BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(BENCH_STAMP)

# the benchmarks against their named peers (see bench/README.md); minutes, not seconds
bench: deps venv $(BENCH_STAMP)
	$(BIN)/python -m bench.load_incidents --incidents 1000000
	$(BIN)/python -m bench.routing
	$(BIN)/python -m bench.grid_assign --points 1000000
	$(BIN)/python -m bench.dashboard --incidents 1000000 --levels --console
	$(BIN)/python -m bench.exports
	$(BIN)/python -m bench.live_pages --pages 1000
	$(BIN)/python -m bench.wall_latency --pages 100
	$(BIN)/python -m bench.outage --rounds 3
	$(BIN)/python -m bench.auth_flood

clean-db:
	$(BIN)/onemap db stop || true
	rm -rf var/pg
