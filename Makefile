# The README's two commands. Both set up .venv first (once; again only when pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.fpga_gen-installed

export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

.PHONY: setup demo test quick lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

demo: setup
	$(VENV)/bin/fpga-gen demo --out build/demo

# pytest exits 5 when it collected nothing: that is a failure too (tests must run).
test: setup
	$(PY) -m pytest -q -n 2 --dist loadgroup --durations=25; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The edit-test loop: lint, types and layering, then the tests that build no large Verilator
# design and train no model (make test runs them all).
quick: lint
	$(PY) -m pytest -q -n 2 --dist loadgroup -m "not slow" --deselect tests/test_demo.py

lint: setup
	$(VENV)/bin/ruff check fpga_gen tests sim examples bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
