"""Which reader and writer classes exist, by name: plain data, imported only when used.

Built-in plugins are listed below as ``"module:Class"`` strings together with what
``vosconv formats`` and ``--help`` show of them (a one-line description, each option's
name, type, default and help, the output names a writer is inferred from), so listing
them costs no imports; ``tests/test_registry.py`` imports every plugin and checks this
table against its class, so the two cannot drift apart. Installed packages add their own
plugins through the entry-point groups ``vosconv.readers`` and ``vosconv.writers``
(value ``"package.module:Class"``). A plugin whose optional dependency is missing fails
with a message naming the extra to install. Names are matched case-insensitively, and an
unknown name gets the nearest registered ones as suggestions.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from .errors import MissingDependency, VosconvError, install_hint
from .options import OptionSpec
from .suggest import did_you_mean

if TYPE_CHECKING:
    from .reader import Reader
    from .writer import Writer

Kind = Literal["reader", "writer"]


@dataclass(frozen=True)
class PluginSpec:
    """Where a plugin lives (``target`` is ``"module:Class"``; ``extra`` is the pip extra it needs) and what it is.

    ``options`` is None when not known without importing the plugin (an entry point, a target string);
    ``suffixes`` are the output name endings that pick this writer when ``--to`` is left out.
    """

    name: str
    target: str
    extra: str | None = None
    origin: str = "vosconv"
    description: str = ""
    options: tuple[OptionSpec, ...] | None = None
    suffixes: tuple[str, ...] = ()


_opt = OptionSpec
_SPLIT_FOLDER = "a split folder under the root ({}); needed when there are several"
_SHARDED_READER = (
    _opt("images", "str or none", None, "folder that non-embedded frames are relative to; default: the recorded image root"),
    _opt("verify", "bool", False, "check every shard's size and sha256 against the manifest before reading"),
)
#: A folder layout's frames from elsewhere: what an annotations-only source (predictions, --no-images outputs) lacks.
_ATTACHED_IMAGES = _opt(
    "images", "str or none", None, "folder of <video>/<frame>.jpg to take the frames from (annotations-only sources)"
)
_RENUMBER = _opt(
    "renumber", "bool", False, "number each video's objects 1..K (SA-V's start at 0), the mapping in object_ids.json"
)
#: What every folder-layout writer takes.
_LAYOUT_WRITER = (_opt("images", "bool", True, "copy each frame's JPEG; false: annotations only"), _RENUMBER)
_VOID = _opt(
    "void",
    "drop|keep",
    "drop",
    "DAVIS's void (255): background 0 (drop), or pixel value 255, which the layout's loaders take for an object",
)
_SHARD_BYTES = _opt("shard_bytes", "int", 1 << 30, "target source bytes per shard file")

_SAV_READER = PluginSpec(
    "sav",
    "converters.formats.sav.reader:SavReader",
    extra="sav",
    description=(
        "Reads SA-V: a train folder (mp4 + ``_manual.json``/``_auto.json``) or a val/test folder (JPEG + per-object PNG)."
    ),
    options=(
        _opt("masklets", "manual|auto|both", "manual", "both: the auto objects after the manual ones, renumbered"),
        _opt("frames", "annotated|all", "annotated", "all: every 24 fps frame of the mp4 (annotated ones every 4th)"),
        _opt("quality", "int", 95, "JPEG quality of frames decoded from an mp4 (cv2.imwrite's default)"),
    ),
)
_SAV_WRITER = PluginSpec(
    "sav",
    "converters.formats.sav.writer:SavWriter",
    description="SA-V's val/test layout: ``JPEGImages_24fps/``, ``Annotations_6fps/<video>/<object:03d>/`` and a video list.",
    options=(
        _opt("json", "bool", False, "also write SAM 2's masklet JSON per video (Annotations_json/<video>_manual.json)"),
        _opt("images", "bool", True, "write each frame's JPEG; false: annotations only"),
    ),
)

_BURST_READER = PluginSpec(
    "burst",
    "converters.formats.burst.reader:BurstReader",
    description=(
        "Reads BURST: a JSON of sequences (or a split folder or annotations root holding them), frames from ``images``."
    ),
    options=(
        _opt(
            "images",
            "str or none",
            None,
            "frames folder: <images>/<split>/<dataset>/<seq_name>/ or <images>/<dataset>/<seq_name>/",
        ),
        _opt(
            "split",
            "str or none",
            None,
            "train, val or test: the split folder of an annotations root; needed when there are several",
        ),
        _opt(
            "subset",
            "all_classes|common_classes|uncommon_classes|first_frame_annotations",
            "all_classes",
            "which JSON of a split folder is read",
        ),
    ),
)
_BURST_WRITER = PluginSpec(
    "burst",
    "converters.formats.burst.writer:BurstWriter",
    description="One BURST JSON: ``sequences`` with each track's RLE per annotated frame, ``split`` and ``categories``.",
    options=(),
    suffixes=(".burst.json",),
)

_READERS = (
    PluginSpec(
        "mose",
        "converters.formats.mose.reader:MoseReader",
        description="Reads MOSE/MOSEv2 split folders, any bare ``JPEGImages`` + ``Annotations`` pair, and results folders.",
        options=(_opt("split", "str or none", None, _SPLIT_FOLDER.format("train, valid")), _ATTACHED_IMAGES),
    ),
    PluginSpec(
        "davis",
        "converters.formats.davis.reader:DavisReader",
        description="Reads a DAVIS 2016 or 2017 folder at one resolution, optionally restricted to one split list.",
        options=(
            _opt("split", "str or none", None, "a list in ImageSets/ (train, val, test-dev, ...); none: every sequence folder"),
            _opt("resolution", "str", "480p", "480p, Full-Resolution, or 1080p (DAVIS 2016's name)"),
            _opt("year", "str or none", None, "ImageSets/<year>/ holding the split; default 2017, then 2016"),
            _ATTACHED_IMAGES,
        ),
    ),
    PluginSpec(
        "youtube-vos",
        "converters.formats.youtube_vos.reader:YoutubeVosReader",
        description="Reads one YouTube-VOS split folder; objects and categories come from its ``meta.json``.",
        options=(_opt("split", "str or none", None, _SPLIT_FOLDER.format("train, valid, test")), _ATTACHED_IMAGES),
    ),
    PluginSpec(
        "lvos",
        "converters.formats.lvos.reader:LvosReader",
        description="Reads one LVOS split folder; each object's ``frame_range`` from its meta file is kept as object metadata.",
        options=(_opt("split", "str or none", None, _SPLIT_FOLDER.format("train, val, test")), _ATTACHED_IMAGES),
    ),
    PluginSpec(
        "coco",
        "converters.formats.coco.reader:CocoReader",
        description="Reads YouTube-VIS-style COCO RLE JSON, including everything vosconv writes into it.",
        options=(
            _opt("images", "str or none", None, "folder that file_names are relative to; default: the root the file records"),
        ),
    ),
    PluginSpec(
        "ytvis",
        "converters.formats.ytvis.reader:YtvisReader",
        description="Reads YouTube-VIS 2019/2021/2022, OVIS and LV-VIS JSON (a file, or the dataset folder with its frames).",
        options=(
            _opt("split", "str or none", None, "which split's JSON (train, valid, val, test) when the folder holds several"),
            _opt("images", "str or none", None, "folder that file_names are relative to; default: the frames folder by the JSON"),
        ),
    ),
    PluginSpec(
        "cocovid",
        "converters.formats.cocovid.reader:CocoVidReader",
        description="Reads CocoVID JSON: mmdet's ``youtubevis2coco.py`` output and vosconv's own ``cocovid`` files.",
        options=(
            _opt("images", "str or none", None, "folder that file_names are relative to; default: the root the file records"),
        ),
    ),
    PluginSpec(
        "parquet",
        "converters.formats.parquet.reader:ParquetReader",
        description="Reads a folder written by the ``parquet`` writer.",
        options=_SHARDED_READER,
    ),
    PluginSpec(
        "hdf5",
        "converters.formats.hdf5.reader:Hdf5Reader",
        description="Reads a folder written by the ``hdf5`` writer.",
        options=_SHARDED_READER,
    ),
    _SAV_READER,
    PluginSpec(
        "vost",
        "converters.formats.vost.reader:VostReader",
        description="Reads a VOST root (``frame00000.jpg`` frames, sparse masks, 255 = ignore), optionally one split list.",
        options=(
            _opt("split", "str or none", None, "a list in ImageSets/ (train, val, test); none: every sequence folder"),
            _opt(
                "frames", "5fps|10fps", "5fps", "10fps: JPEGImages_10fps/ (val's: with split=val); frames without PNG unannotated"
            ),
            _ATTACHED_IMAGES,
        ),
    ),
    _BURST_READER,
)

_WRITERS = (
    PluginSpec(
        "coco",
        "converters.formats.coco.writer:CocoWriter",
        description="One ``.json`` (or ``.json.gz``) file for the whole dataset.",
        options=(_opt("compresslevel", "int or none", None, "gzip level (0-9) for a .json.gz output; default 6"),),
        suffixes=(".json", ".json.gz"),
    ),
    PluginSpec(
        "cocovid",
        "converters.formats.cocovid.writer:CocoVidWriter",
        description="One CocoVID ``.json`` file (mmdet 3.x videos/images/annotations), one annotation per frame and object.",
        options=(),
        suffixes=(".cocovid.json",),
    ),
    PluginSpec(
        "mose",
        "converters.formats.mose.writer:MoseWriter",
        description="A MOSE split folder: ``JPEGImages/<video>/`` and ``Annotations/<video>/``.",
        options=(
            *_LAYOUT_WRITER,
            _VOID,
        ),
    ),
    PluginSpec(
        "davis",
        "converters.formats.davis.writer:DavisWriter",
        description="A ``DAVIS/`` root: ``JPEGImages/<res>/``, ``Annotations/<res>/`` and ``ImageSets/<year>/<split>.txt``.",
        options=(
            _opt("split", "str or none", None, "ImageSets/<year>/<split>.txt to write; default: the source's split, else all"),
            _opt("resolution", "str or none", None, "default: the source's resolution, else 480p"),
            _opt("year", "str or none", None, "default: the source's year, else 2017"),
            *_LAYOUT_WRITER,
        ),
    ),
    PluginSpec(
        "youtube-vos",
        "converters.formats.youtube_vos.writer:YoutubeVosWriter",
        description="A YouTube-VOS split folder: ``meta.json``, ``JPEGImages/<video>/``, ``Annotations/<video>/``.",
        options=(
            *_LAYOUT_WRITER,
            _VOID,
        ),
    ),
    PluginSpec(
        "parquet",
        "converters.formats.parquet.writer:ParquetWriter",
        description=(
            "A folder of ``data/<split>-NNNNN-of-NNNNN.parquet`` shards, a dataset card and ``manifest.json`` (the Hub's layout)."
        ),
        options=(
            _opt("images", "bool", True, "embed each frame's JPEG bytes; false: keep only its path relative to the image root"),
            _SHARD_BYTES,
            _opt("row_group_frames", "int", 8, "frames per row group (a group never spans two videos)"),
            _opt("compression_level", "int", 3, "zstd level (1-22)"),
        ),
        suffixes=(".parquet",),
    ),
    PluginSpec(
        "hdf5",
        "converters.formats.hdf5.writer:Hdf5Writer",
        description="A folder of ``part-NNNNN.h5`` files and ``manifest.json``.",
        options=(
            _opt("images", "bool", True, "embed each frame's JPEG bytes"),
            _opt("masks", "rle|dense", "rle", "COCO RLE tables, or uint8 label maps chunked one frame per chunk"),
            _opt("codec", "zstd|lz4|gzip", "lz4", "compression of dense masks: lz4 reads fastest, zstd is 3-4x smaller"),
            _opt("compression_level", "int or none", None, "default: zstd 3, gzip 1 (lz4 has none)"),
            _SHARD_BYTES,
        ),
        suffixes=(".h5", ".hdf5"),
    ),
    _SAV_WRITER,
    _BURST_WRITER,
)

_known: dict[Kind, dict[str, PluginSpec]] = {
    "reader": {spec.name: spec for spec in _READERS},
    "writer": {spec.name: spec for spec in _WRITERS},
}
_entry_points_loaded = False

#: Read-only views of the tables, for inspection.
readers = MappingProxyType(_known["reader"])
writers = MappingProxyType(_known["writer"])

ENTRY_POINT_GROUPS: dict[Kind, str] = {"reader": "vosconv.readers", "writer": "vosconv.writers"}


def register(kind: Kind, name: str, target: str | type, *, extra: str | None = None, clobber: bool = False) -> None:
    """Add a plugin under ``name``; refuses to replace an existing one unless ``clobber``.

    A class given directly is described from itself; a target string is not imported until used.
    """
    if name in _known[kind] and not clobber:
        raise ValueError(f"a {kind} named {name!r} is already registered ({_known[kind][name].target})")
    if isinstance(target, type):
        _known[kind][name] = describe(name, target, origin="register()", extra=extra)
    else:
        _known[kind][name] = PluginSpec(name, target, extra, origin="register()")


def describe(name: str, cls: type, *, origin: str = "vosconv", extra: str | None = None) -> PluginSpec:
    """The table entry of an imported plugin class: its docstring's first line and its options."""
    from . import options

    doc = (cls.__doc__ or "").strip()
    suffix = getattr(cls, "suffix", "")
    return PluginSpec(
        name,
        f"{cls.__module__}:{cls.__qualname__}",
        extra,
        origin,
        description=doc.splitlines()[0] if doc else "",
        options=options.describe(cls.Options),
        suffixes=(suffix,) if suffix else (),
    )


def _entry_point_files_mention_vosconv() -> bool:
    """Whether any installed distribution may declare a vosconv entry point, without importing importlib.metadata.

    Reading the ``entry_points.txt`` files on ``sys.path`` costs about a millisecond; importing
    ``importlib.metadata`` costs 30-70 ms of every command's start-up. A ``sys.path`` entry that
    is not a folder (a zip) cannot be read this way, so it answers "maybe".
    """
    for entry in sys.path:
        folder = entry or "."
        if not os.path.isdir(folder):
            if os.path.exists(folder):
                return True
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), "rb") as file:
                    if b"[vosconv." in file.read():
                        return True
            except OSError:
                continue
    return False


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    if not _entry_point_files_mention_vosconv():
        return
    from importlib import metadata

    for kind, group in ENTRY_POINT_GROUPS.items():
        for entry in metadata.entry_points(group=group):
            if entry.name in _known[kind]:
                continue  # built-ins and explicit register() calls win over installed packages
            origin = entry.dist.name if entry.dist is not None else "entry point"
            _known[kind][entry.name] = PluginSpec(entry.name, entry.value, None, origin=origin)


def names(kind: Kind) -> list[str]:
    """Registered names of one kind, entry points included, sorted."""
    _load_entry_points()
    return sorted(_known[kind])


def specs(kind: Kind) -> list[PluginSpec]:
    _load_entry_points()
    return [_known[kind][n] for n in sorted(_known[kind])]


def resolve(kind: Kind, name: str) -> str:
    """The registered name ``name`` means: the same, or the one it spells in another case (``COCO``, ``YouTube_VOS``).

    An unknown name is a VosconvError listing the registered names, the nearest first when one is close.
    """
    _load_entry_points()
    if name in _known[kind]:
        return name
    folded = {_fold(known): known for known in _known[kind]}
    found = folded.get(_fold(name))
    if found is not None:
        return found
    registered = sorted(_known[kind])
    hint = did_you_mean(_fold(name), registered)
    raise VosconvError(f"no {kind} named {name!r};{hint} registered {kind}s: {', '.join(registered)}")


def _fold(name: str) -> str:
    return name.strip().lower().replace("_", "-")


def spec(kind: Kind, name: str) -> PluginSpec:
    """The table entry of ``name`` (any case), without importing the plugin."""
    return _known[kind][resolve(kind, name)]


def writer_for_output(output: str | os.PathLike) -> str | None:
    """The writer whose output names end like ``output`` (``x.json.gz`` -> coco), or None; the longest ending wins."""
    lowered = os.fspath(output).rstrip("/\\").lower()
    matches = [(len(s), spec.name) for spec in specs("writer") for s in spec.suffixes if lowered.endswith(s.lower())]
    return max(matches)[1] if matches else None


def load(kind: Kind, name: str) -> type:
    """Import and return the plugin class registered as ``name`` (any case)."""
    plugin = spec(kind, name)
    module_name, _, attribute = plugin.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if plugin.extra or plugin.origin == "vosconv":  # a built-in needs an extra, or vosconv's own dependencies
            hint = install_hint(plugin.extra)
        else:
            hint = f"install the package providing {module_name}"
        raise MissingDependency(f"the {kind} {plugin.name!r} needs {exc.name or exc}: {hint}") from exc
    cls = module
    for part in attribute.split("."):
        cls = getattr(cls, part)
    return cls


def reader_class(name: str) -> type[Reader]:
    return load("reader", name)


def writer_class(name: str) -> type[Writer]:
    return load("writer", name)


def contradicts_output(output: str | os.PathLike, chosen: str) -> bool:
    """Whether ``output``'s name implies another writer than ``chosen``, and not merely a file of the chosen writer's own
    kind: a cocovid or BURST file named ``.json`` (BURST's own ``all_classes.json``) is a JSON file, as its writer writes."""
    inferred = writer_for_output(output)
    if inferred in (None, chosen):
        return False
    endings = {"." + suffix.rsplit(".", 1)[-1].lower() for suffix in spec("writer", chosen).suffixes}
    return not os.fspath(output).rstrip("/\\").lower().endswith(tuple(endings))
