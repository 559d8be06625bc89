"""vosconv: lossless, fast conversion of video object segmentation datasets.

Readers turn a dataset (MOSE, DAVIS, YouTube-VOS, SA-V, LVOS, VOST, BURST, YouTube-VIS, COCO
and CocoVID JSON, vosconv's own outputs) into one intermediate form (:mod:`converters.model`);
writers turn that into COCO RLE JSON, CocoVID, BURST, Parquet, HDF5, SA-V or the folder layouts again. The public API:
:func:`convert`, :func:`read_videos`, :func:`write_videos`, :func:`detect`, :func:`open_reader`,
:func:`open_writer`, :func:`stats` and :func:`preview` (``help(converters.convert)``, and
docs/loader.md). They are imported on first use, so ``import converters`` (and every ``vosconv``
command that converts nothing) costs no more than it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

__all__ = [
    "__version__",
    "convert",
    "detect",
    "open_reader",
    "open_writer",
    "preview",
    "read_videos",
    "stats",
    "write_videos",
]

if TYPE_CHECKING:
    from .api import convert, detect, open_reader, open_writer, read_videos
    from .held import write_videos
    from .inspect.api import preview, stats


def __getattr__(name: str) -> Any:
    if name in ("preview", "stats"):
        from .inspect import api as inspect_api

        return getattr(inspect_api, name)
    if name == "write_videos":
        from .held import write_videos

        return write_videos
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
