"""The public Python API: detect a source, open readers and writers by name, convert.

>>> import converters
>>> converters.convert("MOSE/train", "mose-train.json", to="coco", workers=2)  # doctest: +SKIP
>>> for video in converters.read_videos("mose-train.json"):  # doctest: +SKIP
...     print(video.name, len(video.frames))
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import options as plugin_options
from . import registry
from .errors import DetectionError, MissingDependency, OptionError, SourceError, VosconvError, VosconvWarning
from .records import shown

if TYPE_CHECKING:  # imported when used: `vosconv --help` imports this module and none of those
    from .model import Video
    from .reader import Detection, Reader, VideoRef
    from .run.executors import Executor
    from .run.pipeline import Summary
    from .writer import Writer


#: What a Python caller gives where the command line's ``--from`` goes (the message is both's).
_FROM_IN_PYTHON = "format= or from_= in Python"


def as_path(what: str, value: object) -> Path:
    """``value`` as a Path, or an OptionError naming the argument: a list, None or bytes reached pathlib's TypeError."""
    if isinstance(value, (str, os.PathLike)):
        try:
            return Path(value)
        except TypeError:  # an os.PathLike of bytes
            pass
    hint = "; give one path at a time" if isinstance(value, (list, tuple)) else ""
    raise OptionError(what, f"expected a path (str or os.PathLike), got {type(value).__name__} {shown(value, 80)}{hint}")


def format_name(what: str, value: object) -> str:
    """``value`` if it is a format name (a str), else an OptionError naming the argument."""
    if not isinstance(value, str):
        raise OptionError(what, f"expected a format name (str), got {type(value).__name__} {shown(value, 80)}")
    return value


def as_flag(what: str, value: object) -> bool:
    """``value`` if it is True or False (numpy's too); ``overwrite="false"``, the command line's text, was true."""
    if plugin_options.is_flag(value):
        return bool(value)
    raise OptionError(what, f"expected True or False, got {type(value).__name__} {shown(value, 80)}")


def warn_of_contradiction(output: Path, to: str, writer: Writer) -> None:
    """Warn, as the command line does of ``-o out.json --to parquet``, of an output name that implies another format."""
    if registry.contradicts_output(output, writer.name):
        implied = registry.writer_for_output(output)
        message = f"{output}: a {implied} output's name; to={to!r} writes a {writer.name} output there"
        warnings.warn(message, VosconvWarning, stacklevel=3)


def detect(source: str | os.PathLike) -> str:
    """The name of the reader that recognises ``source``; DetectionError says what was looked for.

    A folder that looks like a layout vosconv does not read yet (a referring-VOS set, VIPSeg) is
    a DetectionError naming that layout, even where a reader would take it: read as YouTube-VOS, a
    Ref-YouTube-VOS split loses its expressions without a word.
    """
    from .formats.folders import results
    from .formats.lookalikes import unread_layout
    from .sources import files as sources

    source = as_path("source", source)
    if not source.exists():
        raise SourceError(source, "no such file or folder")
    # not closed, as the readers' sniffs do not close theirs: an archive's index stays for the reader that follows
    lookalike = unread_layout(source, sources.filesystem(source))
    if lookalike is not None:
        raise DetectionError(
            f"{source} looks like {lookalike.describe()}, a layout vosconv does not read yet; "
            f"name a reader with --from ({_FROM_IN_PYTHON}) to read it as that layout anyway"
        )
    answers = [(name, _sniff(name, source)) for name in registry.names("reader")]
    best = max((d.score for _, d in answers), default=0)
    chosen = [name for name, d in answers if d.score == best and best > 0]
    if len(chosen) == 1:
        inside = _enclosing_dataset(source) if best <= results.DETECTION_SCORE else None
        if inside is not None:  # a dataset's own Annotations/ folder is results-folder shaped: the dataset is meant
            folder, name = inside
            raise DetectionError(f"{source} lies inside {folder}, which reads as {name}: pass {folder} as the source")
        return chosen[0]
    if chosen:
        reasons = "; ".join(f"{name}: {d.reason}" for name, d in answers if name in chosen)
        message = f"{source} looks like {' and '.join(chosen)} ({reasons}); name one with --from ({_FROM_IN_PYTHON})"
        raise DetectionError(message)
    nearest_first = sorted(answers, key=lambda answer: -answer[1].near)  # stable: by name among equals
    report = "".join(f"\n  {name}: {d.reason}" for name, d in nearest_first)
    inside = _enclosing_dataset(source)
    if inside is not None:  # a folder inside a dataset (its JPEGImages/, a video): --from would not help
        folder, name = inside
        raise DetectionError(f"{source} lies inside {folder}, which reads as {name}: pass {folder} as the source{report}")
    raise DetectionError(f"cannot tell the format of {source}; name it with --from ({_FROM_IN_PYTHON}):{report}")


#: How far up :func:`_enclosing_dataset` looks: DAVIS/JPEGImages/480p/<video>/<frame> is four folders deep.
_ENCLOSING_LEVELS = 4


def _enclosing_dataset(source: Path) -> tuple[str, str] | None:
    """The nearest folder above ``source`` that a reader recognises, and that reader, when ``source`` lies in its
    frames or masks folder (``JPEGImages*``, ``Annotations*``); None when there is none."""
    absolute = source.absolute()
    for parent in list(absolute.parents)[:_ENCLOSING_LEVELS]:
        if not absolute.relative_to(parent).parts[0].lower().startswith(("jpegimages", "annotations")):
            continue
        try:
            answers = [(name, _sniff(name, parent)) for name in registry.names("reader")]
        except (OSError, VosconvError):  # an unreadable folder above: no hint, the plain report stands
            return None
        best = max(answers, key=lambda answer: answer[1].score)
        if best[1].score > 0:
            return (os.path.relpath(parent) if not source.is_absolute() else str(parent)), best[0]
    return None


def _sniff(name: str, source: Path) -> Detection:
    from .reader import Detection

    try:
        cls = registry.reader_class(name)
    except MissingDependency as exc:
        return Detection(0, str(exc))
    return cls.sniff(source)


def open_reader(
    source: str | os.PathLike,
    format: str | None = None,
    options: Mapping[str, Any] | None = None,
    *,
    where: str = "reader options",
) -> Reader:
    """A reader for ``source``: ``format`` names it (auto-detected when None); ``options`` are its options.

    Use it in a ``with`` block (or call ``close()``): it may hold an archive's index or a temporary folder.
    """
    source = as_path("source", source)
    name = format_name("format", format) if format is not None else detect(source)
    cls = registry.reader_class(name)
    return cls(source, _built_options("reader", name, cls.Options, options, where))


def open_writer(format: str, options: Mapping[str, Any] | None = None, *, where: str = "writer options") -> Writer:
    """A writer of format ``format`` (any case) with ``options``, checked as ``-w KEY=VALUE`` would be."""
    name = format_name("format", format)
    cls = registry.writer_class(name)
    return cls(_built_options("writer", name, cls.Options, options, where))


def _built_options(kind: registry.Kind, name: str, cls: type, options: Mapping[str, Any] | None, where: str) -> Any:
    """The options of reader or writer ``name``; an unknown one that another of its kind takes says which does.

    ``-w masks=dense`` for a COCO output (the README's HDF5 example) said only ``unknown option``.
    """
    try:
        return plugin_options.build(cls, options, where)
    except OptionError as error:
        key = error.where.rpartition(".")[2]
        if not error.message.startswith("unknown option") or "did you mean" in error.message:
            raise
        owners = [s.name for s in registry.specs(kind) if s.name != name and any(o.name == key for o in s.options or ())]
        if not owners:
            raise
        listed = owners[0] if len(owners) == 1 else f"{', '.join(owners[:-1])} and {owners[-1]}"
        named = f"the {listed} {kind}{'s' if len(owners) > 1 else ''}"
        raise OptionError(error.where, f"{error.message}; {key} is an option of {named}, not of {name}") from None


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
    derive: Mapping[str, Any] | None = None,
) -> Summary:
    """Convert ``source`` to format ``to`` at ``output``, as ``vosconv convert``; the output appears only when complete.

    * ``source``: a dataset folder or file, or a .zip/.tar/.tar.gz of one (read in place);
      ``output``: the file or folder to write. Either a ``str`` or a ``Path``.
    * ``to``: the writer (``"coco"``, ``"parquet"``, ``"hdf5"``, ``"mose"``, ...; any case);
      ``from_``: the reader (``--from``), detected when None.
    * ``reader_options`` / ``writer_options``: mappings of the ``-r`` / ``-w`` options, with
      Python values (``{"split": "train"}``, ``{"images": False}``); ``vosconv formats --options``
      lists them. A misspelt key is an ``OptionError`` suggesting the nearest.
    * ``workers``: videos in parallel processes; ``executor``: where shards run instead
      (``RayExecutor(address)`` from :mod:`converters.run.executors`).
    * ``overwrite``: replace an output vosconv wrote; ``resume``: finish an interrupted run into
      the same output (not both); ``on_error``: ``"fail"`` at a bad video, or ``"skip"`` it
      (listed in ``Summary.errors_file``); ``progress``: a progress bar (None: when on a terminal).
    * ``derive``: a derived set, ``{"frame_step": 5, "first_appearance": True, "max_side": 512,
      "videos_from": "list.txt", "empty_frames_list": "empty.json"}``
      (:class:`converters.run.derive.Derive`).

    Returns a :class:`~converters.run.pipeline.Summary` (``output``, ``stats``, ``seconds``,
    ``notes``, ...). Raises a :class:`~converters.errors.VosconvError`: ``SourceError`` naming
    the file, ``OptionError`` naming the argument or option, ``OutputError``, ``DetectionError``.
    An output name that implies another format (``out.json`` with ``to="parquet"``) is warned of.

    >>> converters.convert("MOSE", "mose-train.json", to="coco", reader_options={"split": "train"})  # doctest: +SKIP
    """
    from .run import derive as derivation
    from .run import pipeline

    source, output = as_path("source", source), as_path("output", output)
    format_name("to", to)
    if from_ is not None:
        format_name("from_", from_)
    overwrite, resume = as_flag("overwrite", overwrite), as_flag("resume", resume)
    if overwrite and resume:  # as --overwrite and --resume: one starts over, the other finishes what is there
        raise OptionError(
            "resume",
            "resume=True and overwrite=True exclude each other: resume finishes an interrupted run, overwrite starts over",
        )
    if progress is not None:
        progress = as_flag("progress", progress)
    derived = derivation.build(derive)
    writer = open_writer(to, writer_options)
    warn_of_contradiction(output, to, writer)
    with open_reader(source, from_, reader_options) as reader:
        run = pipeline.convert if derived is None else functools.partial(derivation.convert, derive=derived)
        return run(
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


def read_videos(
    source: str | os.PathLike,
    format: str | None = None,
    *,
    from_: str | None = None,
    reader_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Videos:
    """Every video of ``source`` in the intermediate form, read one at a time as the loop asks for it.

    ``format`` (or ``from_``, as :func:`convert` names it) names the reader, else it is detected;
    the reader's options are keywords (``split="train"``) or ``reader_options``, as for
    :func:`convert`. A missing source, an undetectable one or a bad option is an error here, at
    the call. The result is an iterator: read once; a second loop over it is an error (call
    ``read_videos`` again). The reader closes when the last video is read, on ``close()``, at the
    end of a ``with`` block, or when the iterator is collected. A video that cannot be read
    raises ``SourceError``; ``next`` then goes on with the next video.

    >>> for video in converters.read_videos("MOSE", split="train"):  # doctest: +SKIP
    ...     print(video.name, len(video.frames), [o.object_id for o in video.objects])
    """
    if from_ is not None:
        format_name("from_", from_)
        if format is not None and format != from_:
            raise OptionError("from_", f"{from_!r} and format={format!r} both name the reader; give one")
        format = from_
    if reader_options is not None:
        if not isinstance(reader_options, Mapping):
            raise OptionError("reader_options", f"expected a mapping of option names to values, got {shown(reader_options, 80)}")
        both = sorted(set(reader_options) & set(options))
        if both:
            raise OptionError(both[0], "given both as a keyword and in reader_options; give it once")
        options = {**reader_options, **options}
    return Videos(open_reader(source, format, options))


class Videos(Iterator["Video"]):
    """The videos of one reader, read as they are asked for: what :func:`read_videos` returns."""

    def __init__(self, reader: Reader) -> None:
        self._reader: Reader | None = reader
        self._described = f"read_videos({os.fspath(reader.source)!r})"
        self._refs: list[VideoRef] | None = None  # listed on the first next(): the call itself reads nothing
        self._position = 0
        self._finished = False

    def __iter__(self) -> Videos:
        if self._reader is None:  # a second loop over a generator gave nothing, and said nothing
            done = "gave every video already" if self._finished else "was closed"
            raise VosconvError(f"{self._described} {done}; call converters.read_videos again to read the videos again")
        return self

    def __next__(self) -> Video:
        if self._reader is None:
            raise StopIteration
        if self._refs is None:
            try:
                self._refs = self._reader.list_videos()
            except BaseException:  # nothing to go on with: a loop that passes errors would meet this one forever
                self.close()
                raise
        if self._position >= len(self._refs):
            self._finished = True
            self.close()
            raise StopIteration
        ref = self._refs[self._position]
        self._position += 1  # a video that cannot be read is passed: the next call goes on with the next one
        return self._reader.read_video(ref)

    def close(self) -> None:
        """Close the reader (an archive's handle, a COCO file's temporary index); the loop ends."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def __enter__(self) -> Videos:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit, what close needs may be gone
            self.close()

    def __repr__(self) -> str:
        listed = "?" if self._refs is None else str(len(self._refs))
        if self._reader is not None:
            state = f"{self._position} of {listed} read"
        else:
            state = f"all {listed} read" if self._finished else "closed"
        return f"<{self._described}: {state}>"
