# Everything runs from a repo-local .venv built from requirements.lock with uv.
# --compile-bytecode: uv, unlike pip, leaves .pyc files to be written on first
# import, which never happens where PYTHONDONTWRITEBYTECODE is set (as on CI);
# every process then compiles jax and flax from source: 3.8 s to import, not 1.2 s.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test lint format docs bench bench-coverage bench-durations mutants lock matrix matrix-test clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/conformance run --compilation-cache .conformance/xla-cache

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup tests

# ruff, configured in pyproject.toml: the linter, and the formatter in check mode.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The README's tables that mirror the code (claims coverage, divergences, profiles, catalogue sizes).
docs: $(STAMP)
	$(BIN)/python -m conformance.commands.readme --write README.md

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

mutants: $(STAMP)
	$(BIN)/conformance mutants

bench: $(STAMP)
	$(BIN)/python -m conformance.commands.bench

# Shapes covered over 10 default-profile runs, each with a pool of its own (about 10 minutes).
bench-coverage: $(STAMP)
	$(BIN)/python -m conformance.commands.bench coverage

# Refresh properties/durations.toml, the seconds by which workers take the longest groups first.
bench-durations: $(STAMP)
	$(BIN)/python -m conformance.commands.bench durations

# The release matrix: builds one cached uv environment per Flax release (slow; not part of make test),
# and runs the newest release with each jax it supports (compat.toml's jax_supported).
# MATRIX_OPTIONS passes more options (--timeout 600 on a machine too busy for 120 s per property).
MATRIX_RELEASES ?= 0.8.5 0.10.7 0.11.2 0.12.0 0.12.1 0.12.8@0.10.0 0.12.8@0.10.1 0.12.8
MATRIX_OPTIONS ?=
matrix: $(STAMP)
	$(BIN)/conformance matrix --flax $(MATRIX_RELEASES) $(MATRIX_OPTIONS) --json docs/compatibility.json --markdown docs/compatibility.md --html docs/compatibility.html

# Local Flax builds end to end: a wheel, an sdist and source trees from the lock's release (downloaded
# once into .conformance/dists), their environments, a flipped default, bisect and diff. make test runs
# these too; this target runs them alone (with the matrix's, bisect's and diff's fast tests).
matrix-test: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_local_builds.py tests/test_expectations.py tests/test_matrix.py tests/test_builds.py tests/test_bisect.py tests/test_diff.py tests/test_ci_recipe.py

# Regenerate the lock after editing requirements.in.
lock: $(STAMP)
	$(BIN)/uv pip compile -q requirements.in -o requirements.lock --python-version 3.11

clean:
	rm -rf $(VENV) .hypothesis build src/*.egg-info
