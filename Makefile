# Two commands on a fresh clone: `make convert FORMAT=coco` and `make test`.
# Every target depends on `setup`, which builds .venv/ once (again when pyproject.toml changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EXTRAS ?= test

FORMAT   ?= coco
PIPELINE ?=
WORKERS  ?=

.PHONY: setup convert test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py converters/_kernels.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]'
	touch $(STAMP)

convert: setup
	$(BIN)/vosconv run $(PIPELINE) --format $(FORMAT) $(if $(WORKERS),--workers $(WORKERS))

lint: setup
	$(BIN)/ruff check converters tests benchmarks
	$(BIN)/ruff format --check converters tests benchmarks

# The compiled kernels (converters/_kernels.c) skip bounds checks for speed, so their tests run a
# second time on the build of the same C source that checks every index (VOSCONV_BOUNDSCHECK=1
# selects it): an index out of range is then an IndexError in the test instead of silent memory corruption.
KERNEL_TESTS := tests/test_rle.py tests/test_png.py tests/test_scratch.py tests/test_loading.py tests/test_png_fuzz.py

test: setup lint
	PYTHONFAULTHANDLER=1 $(BIN)/python -m pytest -q  # a crash in C code, even at exit, prints the Python stacks
	PYTHONFAULTHANDLER=1 VOSCONV_BOUNDSCHECK=1 $(BIN)/python -m pytest -q $(KERNEL_TESTS)

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) out data/sample .pytest_cache .ruff_cache build converters/_kernels*.so
