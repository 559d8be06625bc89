"""vosconv's HDF5 shards: the names the writer, the reader and the loader share."""

from __future__ import annotations

#: The file attribute holding vosconv's JSON header (format version, categories).
HEADER_ATTRIBUTE = "vosconv"
#: The group holding one group per video.
VIDEOS_GROUP = "videos"


def video_group(name: str) -> str:
    """The path of a video's group in its shard."""
    return f"{VIDEOS_GROUP}/{name}"
