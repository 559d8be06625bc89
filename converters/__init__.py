"""vosconv: lossless, fast conversion of video object segmentation datasets.

Readers turn MOSE, DAVIS and YouTube-VOS folders (and vosconv's own outputs) into one
intermediate form (:mod:`converters.model`); writers turn that into COCO RLE JSON,
Parquet, HDF5 or the folder layouts again. The functions below are the public API.
"""

__version__ = "0.1.0"

from .api import convert, detect, open_reader, open_writer, read_videos
from .inspect.api import preview, stats

__all__ = ["__version__", "convert", "detect", "open_reader", "open_writer", "preview", "read_videos", "stats"]
