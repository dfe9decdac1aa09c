# The two commands: `make run` and `make test`. Both set up what they need first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
CLOUDMAP := $(BIN)/cloudmap
BENCH_ARGS ?=
# pytest processes for `make test` (pytest-xdist; a module stays on one process): 2 for the 2-core CI machine
TEST_WORKERS ?= 2

.PHONY: setup run test test-fast bench db-start db-stop db-status demo-data help

help:
	@echo "make run    - set up, start the database, migrate, load demo data, serve http://127.0.0.1:8000"
	@echo "make test   - set up, then run every test (spatial, API on real PostGIS, browser)"
	@echo "make bench  - set up, then wrk, tipg and the 100k parcels (scripts/bench_setup.sh), then every benchmark"
	@echo "              (BENCH_ARGS='--only spatial --quick' for a subset; see bench/README.md)"
	@echo "make db-start | db-stop | db-status - the private PostGIS cluster under var/pg"

setup:
	@bash scripts/setup.sh

run: setup
	$(CLOUDMAP) db upgrade
	$(CLOUDMAP) db seed
	$(CLOUDMAP) serve

test: setup
	$(BIN)/ruff check app spatial evaluation migrations tests scripts bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: setup
	$(BIN)/ruff check app spatial evaluation migrations tests scripts bench
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not browser"

bench: setup
	bash scripts/bench_setup.sh
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

db-start: setup
	$(CLOUDMAP) db start

db-stop:
	$(CLOUDMAP) db stop

db-status:
	$(CLOUDMAP) db status

demo-data: setup
	$(BIN)/python scripts/make_demo_data.py
