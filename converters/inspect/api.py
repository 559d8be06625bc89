"""The Python API of ``stats`` and ``preview`` (exported as ``converters.stats`` and ``converters.preview``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..run.executors import Executor
    from .stats import DatasetStats

__all__ = ["preview", "stats"]


def stats(
    source: str | os.PathLike,
    *,
    from_: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    progress: bool | None = False,
) -> DatasetStats:
    """The statistics of ``source`` (any readable dataset or vosconv output), without decoding images.

    Returns a :class:`~converters.inspect.stats.DatasetStats`: ``summary()`` (the dataset's
    table), ``rows()`` (one per video), ``write_table("per-video.csv" or ".parquet")``.

    >>> s = converters.stats("MOSE/train", workers=4)  # doctest: +SKIP
    >>> s.summary()["disappearance_rate"]  # doctest: +SKIP
    """
    from ..api import open_reader
    from .stats import summarise

    with open_reader(source, from_, reader_options) as reader:
        return summarise(reader, workers=workers, executor=executor, progress=progress)


def preview(
    source: str | os.PathLike,
    output: str | os.PathLike,
    *,
    compare: str | os.PathLike | None = None,
    from_: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> list[Path]:
    """Overlay ``source``'s masks on its frames into ``output`` (.png sheet, .gif/.mp4 animation, or a folder).

    ``compare`` names a second source (a conversion's output, say) shown beside each frame;
    ``options`` are those of :func:`converters.inspect.preview.write_preview` (``videos``,
    ``frames``, ``scale``, ``columns``, ``fps``, ``format``, ``ids``, ``overwrite``). Returns the files written.
    """
    from ..api import open_reader
    from .preview import write_preview

    with open_reader(source, from_, reader_options) as reader:
        if compare is None:
            return write_preview(reader, output, **options)
        with open_reader(compare) as other:
            return write_preview(reader, output, other=other, **options)
