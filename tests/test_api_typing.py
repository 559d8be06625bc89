"""The public API's type hints are complete and reach the user's type checker (PEP 561's ``py.typed``)."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import pytest

import converters
from converters.api import Videos
from converters.inspect.stats import DatasetStats
from converters.reader import Reader
from converters.writer import Writer

REPO = Path(__file__).resolve().parents[1]
DUNDERS = ("__init__", "__enter__", "__exit__", "__iter__", "__next__")


def public_callables() -> list:
    found = [getattr(converters, name) for name in converters.__all__ if name != "__version__"]
    for cls in (Reader, Writer, Videos, DatasetStats):
        found += [m for n, m in vars(cls).items() if inspect.isfunction(m) and (not n.startswith("_") or n in DUNDERS)]
    return found


@pytest.mark.parametrize("function", public_callables(), ids=lambda f: f.__qualname__)
def test_every_argument_and_result_is_annotated(function):
    """``with converters.open_reader(...) as reader`` gave ``Any``: Reader.__enter__ had no return type."""
    signature = inspect.signature(function)
    bare = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert [name for name in bare if name not in ("self", "cls")] == []
    assert signature.return_annotation is not inspect.Signature.empty


def test_a_reader_in_a_with_block_is_typed_as_its_own_class():
    hint = inspect.signature(Reader.__enter__).return_annotation
    assert hint == inspect.signature(Reader.__enter__).parameters["self"].annotation == "_R"


def test_the_package_says_it_is_typed():
    """Without ``py.typed`` mypy reports 'missing library stubs or py.typed marker' for ``import converters``."""
    assert (REPO / "converters" / "py.typed").is_file()
    if sys.version_info < (3, 11):
        pytest.skip("tomllib is Python 3.11's")
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["converters"]
