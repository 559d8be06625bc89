"""The Python API of ``stats`` and ``preview`` (exported as ``converters.stats`` and ``converters.preview``)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable, Mapping
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
    from ..api import as_path, format_name, open_reader
    from .stats import summarise

    source = as_path("source", source)
    if from_ is not None:
        format_name("from_", from_)
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
    from ..api import as_path, format_name, open_reader
    from .preview import write_preview

    source, output = as_path("source", source), as_path("output", output)
    if compare is not None:
        compare = as_path("compare", compare)
    if from_ is not None:
        format_name("from_", from_)
    options = _preview_options(options)
    with open_reader(source, from_, reader_options) as reader:
        if compare is None:
            return write_preview(reader, output, **options)
        with open_reader(compare) as other:
            return write_preview(reader, output, other=other, **options)


#: ``preview``'s keyword options, as ``vosconv preview``'s flags name them (``videos``: ``--video``).
PREVIEW_OPTIONS = ("videos", "frames", "scale", "columns", "fps", "format", "ids", "overwrite")


def _preview_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` checked before any reading: an unknown name (``colums=``) and a value of the wrong type (``scale="2"``)
    were a TypeError from deep inside; a single video's name is that video, not its characters."""
    from ..api import as_flag
    from ..errors import OptionError
    from ..suggest import did_you_mean

    for name in options:
        if name not in PREVIEW_OPTIONS:
            hint = did_you_mean(name, PREVIEW_OPTIONS)
            raise OptionError(name, f"unknown preview option{';' + hint if hint else ''} (allowed: {', '.join(PREVIEW_OPTIONS)})")
    options = dict(options)
    if isinstance(options.get("videos"), str):  # videos="bear": the video bear, not videos b, e, a and r
        options["videos"] = [options["videos"]]
    if options.get("videos") is not None:  # else a TypeError mid-reading (videos=5)
        options["videos"] = _checked_list("videos", options["videos"], lambda v: isinstance(v, str), "video names")
    frames = options.get("frames")
    if isinstance(frames, numbers.Integral) and not isinstance(frames, bool):  # frames=5: the frame at position 5
        options["frames"] = [frames]
    if options.get("frames") is not None and not isinstance(options["frames"], str):  # frames=[0.5], [0, "a"], -1
        what = "frame positions (int), or text like '0,5' or '::5'"
        positions = _checked_list("frames", options["frames"], _is_position, what)
        options["frames"] = [int(i) for i in positions]
    for name in ("scale", "fps"):
        value = options.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
            raise OptionError(name, f"expected a number, got {type(value).__name__} {value!r:.60}")
    for name in ("ids", "overwrite"):
        if name in options:
            options[name] = as_flag(name, options[name])
    return options


def _is_position(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _checked_list(name: str, value: object, valid: Callable[[object], bool], what: str) -> list:
    """``value``'s items as a list, or an OptionError naming the option when it is no iterable of such items."""
    from ..errors import OptionError

    items = list(value) if isinstance(value, Iterable) and not isinstance(value, (str, bytes)) else None
    if items is None or not all(valid(item) for item in items):
        raise OptionError(name, f"expected a list of {what}, got {type(value).__name__} {value!r:.60}")
    return items
