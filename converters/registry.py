"""Which reader and writer classes exist, by name: plain data, imported only when used.

Built-in plugins are listed below as ``"module:Class"`` strings, so ``vosconv formats``
and ``--help`` cost no imports. Installed packages add their own through the entry-point
groups ``vosconv.readers`` and ``vosconv.writers`` (value ``"package.module:Class"``).
A plugin whose optional dependency is missing fails with a message naming the extra
to install.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib import metadata
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from .errors import MissingDependency, VosconvError

if TYPE_CHECKING:
    from .readers.base import Reader
    from .writers.base import Writer

Kind = Literal["reader", "writer"]


@dataclass(frozen=True)
class PluginSpec:
    """Where a plugin lives: ``target`` is ``"module:Class"``; ``extra`` is the pip extra it needs."""

    name: str
    target: str
    extra: str | None = None
    origin: str = "vosconv"


def _builtin(kind: str, table: dict[str, tuple[str, str | None]]) -> dict[str, PluginSpec]:
    return {name: PluginSpec(name, f"converters.{kind}.{target}", extra) for name, (target, extra) in table.items()}


_known: dict[Kind, dict[str, PluginSpec]] = {
    "reader": _builtin(
        "readers",
        {
            "mose": ("mose:MoseReader", None),
            "davis": ("davis:DavisReader", None),
            "youtube-vos": ("youtube_vos:YoutubeVosReader", None),
            "coco": ("coco:CocoReader", None),
            "parquet": ("parquet:ParquetReader", None),
            "hdf5": ("hdf5:Hdf5Reader", None),
        },
    ),
    "writer": _builtin(
        "writers",
        {
            "coco": ("coco:CocoWriter", None),
            "mose": ("layout:MoseWriter", None),
            "davis": ("layout:DavisWriter", None),
            "youtube-vos": ("layout:YoutubeVosWriter", None),
            "parquet": ("parquet:ParquetWriter", None),
            "hdf5": ("hdf5:Hdf5Writer", None),
        },
    ),
}
_entry_points_loaded = False

#: Read-only views of the tables, for inspection.
readers = MappingProxyType(_known["reader"])
writers = MappingProxyType(_known["writer"])

ENTRY_POINT_GROUPS: dict[Kind, str] = {"reader": "vosconv.readers", "writer": "vosconv.writers"}


def register(kind: Kind, name: str, target: str | type, *, extra: str | None = None, clobber: bool = False) -> None:
    """Add a plugin under ``name``; refuses to replace an existing one unless ``clobber``."""
    if name in _known[kind] and not clobber:
        raise ValueError(f"a {kind} named {name!r} is already registered ({_known[kind][name].target})")
    if isinstance(target, type):
        target = f"{target.__module__}:{target.__qualname__}"
    _known[kind][name] = PluginSpec(name, target, extra, origin="register()")


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
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


def load(kind: Kind, name: str) -> type:
    """Import and return the plugin class registered as ``name``."""
    _load_entry_points()
    try:
        spec = _known[kind][name]
    except KeyError:
        raise VosconvError(f"no {kind} named {name!r}; registered {kind}s: {', '.join(sorted(_known[kind]))}") from None
    module_name, _, attribute = spec.target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"pip install 'vosconv[{spec.extra}]'" if spec.extra else f"install the package providing {module_name}"
        raise MissingDependency(f"the {kind} {name!r} needs {exc.name or exc}: {hint}") from exc
    cls = module
    for part in attribute.split("."):
        cls = getattr(cls, part)
    return cls


def reader_class(name: str) -> type[Reader]:
    return load("reader", name)


def writer_class(name: str) -> type[Writer]:
    return load("writer", name)
