"""The public Python API: detect a source, open readers and writers by name, convert.

>>> import converters
>>> converters.convert("MOSE/train", "mose-train.json", to="coco", workers=2)  # doctest: +SKIP
>>> for video in converters.read_videos("mose-train.json"):  # doctest: +SKIP
...     print(video.name, len(video.frames))
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from . import options as plugin_options
from . import registry
from .errors import DetectionError, MissingDependency, SourceError
from .executors import Executor
from .model import Video
from .pipeline import Summary
from .readers.base import Detection, Reader
from .writers.base import Writer


def detect(source: str | os.PathLike) -> str:
    """The name of the reader that recognises ``source``; DetectionError says what was looked for."""
    source = Path(source)
    if not source.exists():
        raise SourceError(source, "no such file or folder")
    answers: list[tuple[str, Detection]] = []
    for name in registry.names("reader"):
        try:
            cls = registry.reader_class(name)
        except MissingDependency as exc:
            answers.append((name, Detection(0, str(exc))))
            continue
        answers.append((name, cls.sniff(source)))
    best = max((d.score for _, d in answers), default=0)
    chosen = [name for name, d in answers if d.score == best and best > 0]
    report = "; ".join(f"{name}: {d.reason}" for name, d in answers)
    if not chosen:
        raise DetectionError(f"cannot tell the format of {source} ({report}); name it with --from")
    if len(chosen) > 1:
        raise DetectionError(f"{source} looks like {' and '.join(chosen)} ({report}); name one with --from")
    return chosen[0]


def open_reader(
    source: str | os.PathLike,
    format: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    where: str = "reader options",
) -> Reader:
    """A reader for ``source``: ``format`` names it (auto-detected when None); ``options`` are its options."""
    name = format or detect(source)
    cls = registry.reader_class(name)
    return cls(source, plugin_options.build(cls.Options, options, where))


def open_writer(format: str, options: Mapping[str, Any] | None = None, *, where: str = "writer options") -> Writer:
    cls = registry.writer_class(format)
    return cls(plugin_options.build(cls.Options, options, where))


def convert(
    source: str | os.PathLike,
    output: str | os.PathLike,
    to: str,
    *,
    from_: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
    writer_options: Mapping[str, Any] | None = None,
    workers: int = 1,
    overwrite: bool = False,
    resume: bool = False,
    on_error: Literal["fail", "skip"] = "fail",
    executor: Executor | None = None,
    progress: bool | None = False,
) -> Summary:
    """Convert ``source`` to format ``to`` at ``output``; the output appears only when complete.

    See :func:`converters.pipeline.convert` for ``resume``, ``on_error`` and ``executor``.
    """
    from . import pipeline

    writer = open_writer(to, writer_options)
    with open_reader(source, from_, reader_options) as reader:
        return pipeline.convert(
            reader,
            writer,
            output,
            workers=workers,
            executor=executor,
            overwrite=overwrite,
            resume=resume,
            on_error=on_error,
            progress=progress,
        )


def read_videos(source: str | os.PathLike, format: str | None = None, **options: Any) -> Iterator[Video]:
    """Every video of ``source`` in the intermediate form, one at a time."""
    with open_reader(source, format, options) as reader:
        for ref in reader.list_videos():
            yield reader.read_video(ref)
