"""The conformance checks as a pytest class: subclass it in your plugin's tests and name your writer.

::

    from converters.testing.suite import RoundTripSuite

    class TestMyFormat(RoundTripSuite):
        writer = "my-format"          # registered writer; its reader is looked up by the same name
        output_name = "out.myfmt"     # how the output is named (a file or a folder)

A new reader proves itself on its own fixture with :class:`ReaderSuite`::

    class TestMyLayout(ReaderSuite):
        reader = "my-layout"

        @pytest.fixture(scope="class")
        @classmethod
        def reader_source(cls, tmp_path_factory):
            return make_my_fixture(tmp_path_factory.mktemp("src")), {"split": "train"}

This module imports pytest; :mod:`converters.testing.conformance` holds the same checks as
plain functions that need no test runner.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, ClassVar

import pytest

from .. import api, registry
from ..errors import VosconvWarning
from .conformance import (
    SOURCES,
    check_failed_conversion_leaves_no_output,
    check_output_independent_of_workers,
    check_reader_round_trip,
    check_round_trip,
    write_samples,
)
from .content import ALL_METADATA

__all__ = ["ReaderSuite", "RoundTripSuite"]


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


def round_trip_writers() -> list[str]:
    """Every registered writer whose output a reader of the same name reads back."""
    return sorted(set(registry.names("writer")) & set(registry.names("reader")))


class ReaderSuite:
    """A reader's own fixture is auto-detected, and survives every format that can hold it, exactly.

    Set ``reader`` (a registered name) and provide the ``reader_source`` fixture: ``(path, options)``
    of a fixture with the format's real traits. ``refused`` maps writers that cannot hold the
    fixture (a palette layout and ids above 254, say) to a phrase their error must contain;
    ``kept`` overrides the object metadata compared, by writer.
    """

    reader: ClassVar[str]
    detected: ClassVar[bool] = True  # False for a layout that is only read when named (--from)
    frames: ClassVar[bool] = True  # False for masks without frames: writers that embed images are told to write none
    refused: ClassVar[dict[str, str]] = {}
    kept: ClassVar[dict[str, frozenset[str]]] = {}

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls) -> tuple[Path, dict[str, Any]]:
        raise NotImplementedError("provide a reader_source fixture: (path, reader options)")

    def test_detected(self, reader_source: tuple[Path, dict[str, Any]]) -> None:
        if not self.detected:
            pytest.skip(f"{self.reader} is read only when named")
        assert api.detect(reader_source[0]) == self.reader

    @pytest.mark.parametrize("writer", round_trip_writers())
    def test_round_trip_through_every_format(
        self, reader_source: tuple[Path, dict[str, Any]], tmp_path: Path, writer: str
    ) -> None:
        source, options = reader_source
        out = tmp_path / ("out.json" if writer == "coco" else "out")
        embeds = getattr(api.open_writer(writer).options, "images", None) is True
        written = {"images": False} if embeds and not self.frames else None  # refused otherwise: no images to embed
        if writer in self.refused:
            from ..errors import VosconvError

            with pytest.raises(VosconvError, match=self.refused[writer]):
                check_reader_round_trip(source, self.reader, options, writer, out, writer_options=written)
            return
        with warnings.catch_warnings():  # reading back frames stored without images says so: expected here
            warnings.filterwarnings("ignore", ".*images are not embedded and", VosconvWarning)
            check_reader_round_trip(source, self.reader, options, writer, out, kept=self.kept.get(writer), writer_options=written)

    def test_output_bytes_do_not_depend_on_workers(self, reader_source: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
        source, options = reader_source
        outs = []
        for workers in (1, 2):
            out = tmp_path / f"w{workers}.json"
            api.convert(source, out, to="coco", from_=self.reader, reader_options=options, workers=workers)
            outs.append(out.read_bytes())
        assert outs[0] == outs[1]
