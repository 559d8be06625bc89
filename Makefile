# Two commands on a fresh clone: `make convert FORMAT=coco` and `make test`.
# `make convert` installs what converting needs into .venv/ (the `core` stamp); `make test` adds the
# test extra (pytest, ruff, torch, Ray, datasets, build, twine: the `test` stamp). Each stamp is
# redone when pyproject.toml, setup.py or the C kernels change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CORE   := $(VENV)/.installed-core
TESTENV := $(VENV)/.installed-test

FORMAT   ?= coco
PIPELINE ?=
WORKERS  ?=

.PHONY: setup setup-test convert test lint bench dist check-package clean

setup: $(CORE)

setup-test: $(TESTENV)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml setup.py converters/codecs/_kernels.c | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(CORE)

$(TESTENV): $(CORE)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	SAM2_BUILD_CUDA=0 $(BIN)/python -m pip install --quiet --no-deps --no-build-isolation sam2==1.1.0  # its training/ package, no CUDA build, no torchvision
	touch $(TESTENV)

convert: setup
	$(BIN)/vosconv run $(PIPELINE) --format $(FORMAT) $(if $(WORKERS),--workers $(WORKERS))

lint: setup-test
	$(BIN)/ruff check converters tests benchmarks
	$(BIN)/ruff format --check converters tests benchmarks

# The compiled kernels (converters/codecs/_kernels.c) skip bounds checks for speed, so their tests run a
# second time on the build of the same C source that checks every index (VOSCONV_BOUNDSCHECK=1
# selects it): an index out of range is then an IndexError in the test instead of silent memory corruption.
KERNEL_TESTS := tests/test_rle.py tests/test_png.py tests/test_scratch.py tests/test_loading.py tests/test_training_clips.py tests/test_png_fuzz.py

test: setup-test lint
	PYTHONFAULTHANDLER=1 $(BIN)/python -m pytest -q  # a crash in C code, even at exit, prints the Python stacks
	PYTHONFAULTHANDLER=1 VOSCONV_BOUNDSCHECK=1 $(BIN)/python -m pytest -q $(KERNEL_TESTS)

bench: setup-test
	$(BIN)/python -m benchmarks

# A wheel and an sdist in dist/, their metadata checked by twine.
dist: setup-test
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/python -m twine check --strict dist/*

# Builds both, installs the wheel into a fresh venv and runs it there (CI runs this after `make test`).
check-package: setup-test
	PYTHON=$(BIN)/python .ci/check-package

clean:
	rm -rf $(VENV) out data/sample dist build .pytest_cache .ruff_cache converters/codecs/_kernels*.so
