"""The conformance checks as a pytest class: subclass it in your plugin's tests and name your writer.

::

    from converters.testing.suite import RoundTripSuite

    class TestMyFormat(RoundTripSuite):
        writer = "my-format"          # registered writer; its reader is looked up by the same name
        output_name = "out.myfmt"     # how the output is named (a file or a folder)

This module imports pytest; :mod:`converters.testing.conformance` holds the same checks as
plain functions that need no test runner.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest

from .conformance import (
    SOURCES,
    check_failed_conversion_leaves_no_output,
    check_output_independent_of_workers,
    check_round_trip,
    write_samples,
)
from .content import ALL_METADATA

__all__ = ["RoundTripSuite"]


class RoundTripSuite:
    """Exact round trips from every sample layout, bytes independent of workers, nothing left by a failed run.

    Set ``writer`` (a registered name); ``reader`` defaults to the same name; ``output_name``
    is what the output is called; ``kept`` narrows the object metadata compared
    (see :func:`~converters.testing.content.assert_same_content`).
    """

    writer: ClassVar[str]
    reader: ClassVar[str | None] = None
    output_name: ClassVar[str] = "out"
    kept: ClassVar[frozenset[str]] = ALL_METADATA

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_samples(cls, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
        """The synthetic samples, written once per class; override to share your own session's."""
        return write_samples(tmp_path_factory.mktemp("conformance-samples"))

    @pytest.mark.parametrize("source", sorted(SOURCES))
    def test_round_trip_is_exact(self, conformance_samples: dict[str, Path], tmp_path: Path, source: str) -> None:
        out = tmp_path / self.output_name
        check_round_trip(conformance_samples, source, self.writer, out, reader=self.reader, kept=self.kept)

    def test_output_bytes_do_not_depend_on_workers(self, conformance_samples: dict[str, Path], tmp_path: Path) -> None:
        check_output_independent_of_workers(conformance_samples, self.writer, tmp_path, output_name=self.output_name)

    def test_failed_conversion_leaves_no_output(self, conformance_samples: dict[str, Path], tmp_path: Path) -> None:
        check_failed_conversion_leaves_no_output(conformance_samples, self.writer, tmp_path, output_name=self.output_name)
