"""The YouTube-VOS layout written back: a split folder with its ``meta.json``."""

from __future__ import annotations

from pathlib import Path

from ...codecs import png
from ...model import Category, DatasetInfo, Video
from ..folders.writer import LayoutWriter, write_json
from .spec import META


class YoutubeVosWriter(LayoutWriter):
    """A YouTube-VOS split folder: ``meta.json``, ``JPEGImages/<video>/``, ``Annotations/<video>/``."""

    name = "youtube-vos"
    default_palette = png.YOUTUBE_VOS_PALETTE
    keeps = frozenset({"categories", "object_frames", "unseen_objects"})  # meta.json lists every object

    def video_facts(self, video: Video, info: DatasetInfo) -> dict:
        """The video's ``meta.json`` entry: each object's category and frames.

        ``frames`` is the source's own list when it had one (kept verbatim), else the
        frames where the object has pixels.
        """
        names = {c.id: c.name for c in info.categories}
        objects = {}
        for obj in video.objects:
            entry = {}
            if obj.category_id is not None and obj.category_id in names:
                entry["category"] = names[obj.category_id]
            if obj.frames is not None:
                entry["frames"] = list(obj.frames)
            else:
                entry["frames"] = [f.stem for f in video.frames if f.masks is not None and f.masks.get(obj.object_id)]
            objects[str(obj.object_id)] = entry
        return {"objects": objects}

    def categories_read_back(self, info: DatasetInfo, videos: dict[str, object]) -> tuple[Category, ...]:
        """``meta.json`` names each object's category: its reader numbers the names used, sorted, from 1."""
        names = sorted(
            {entry["category"] for facts in videos.values() for entry in facts["objects"].values() if "category" in entry}
        )
        return tuple(Category(number, name) for number, name in enumerate(names, 1))

    def write_index(self, root: Path, videos: dict[str, object], info: DatasetInfo) -> None:
        write_json(root / META, {"videos": videos})
