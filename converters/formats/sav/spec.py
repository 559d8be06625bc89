"""SA-V's layout as SAM 2's ``sav_dataset/README.md`` and example files give it.

Train: ``sav_train/sav_NNN/sav_XXXXXX.mp4`` (24 fps) with ``sav_XXXXXX_manual.json`` and, for most
videos, ``sav_XXXXXX_auto.json``; each JSON's ``masklet`` is a list over annotated frames (every
4th video frame: annotated frame k is video frame 4k) of lists over objects of COCO compressed
RLE, an invisible object being an empty RLE. Val/test: ``sav_val.txt`` (the video list),
``JPEGImages_24fps/<video>/<frame:05d>.jpg`` (every frame) and
``Annotations_6fps/<video>/<object:03d>/<frame:05d>.png`` (one binary PNG per object per annotated
frame: objects overlap).
"""

from __future__ import annotations

import re

from ...model import FRAME_STATISTICS

FRAMES_FPS = 24
#: Annotated every 4th frame (6 fps); SAM 2's extraction keeps ``frames[::4]`` and names them by 24 fps index.
ANNOTATE_EVERY = 4
IMAGES = "JPEGImages_24fps"
ANNOTATIONS = "Annotations_6fps"
#: ``-w json=true`` writes ``<video>_manual.json`` here (SAM 2's ``JSONRawDataset`` ``gt_folder``).
JSON_FOLDER = "Annotations_json"
#: vosconv's own record of what the PNGs cannot say (void, palette, empty annotated frames, metadata),
#: one ``<video>.json`` per video; hidden, so SAM 2 and SA-V's tools never see it.
SIDECAR = ".vosconv"
#: The dataset's record in it (split, categories, attributes), beside one ``<video>.json`` per video: hidden, so that no
#: video's record takes its name (a video named ``dataset`` once overwrote it; video names never start with ".").
DATASET_RECORD = ".dataset"
VIDEO_LIST = re.compile(r"sav_(val|test|train)\.txt")
TRAIN_JSON = re.compile(r"(.+)_(manual|auto)\.json")
#: The per-object fields of a masklet JSON (besides ``masklet`` itself), kept as object metadata.
OBJECT_FIELDS = ("masklet_id", *FRAME_STATISTICS, "masklet_type")
STABILITY = "masklet_stability_score"
#: SA-V's per-video header, in its files' order. ``video_id`` is the video's name and the size its
#: width and height; the others are kept as the video's metadata and written back from it.
VIDEO_FIELDS = (
    "video_id",
    "video_duration",
    "video_frame_count",
    "video_height",
    "video_width",
    "video_resolution",
    "video_environment",
    "video_split",
)
#: What a masklet JSON says that the form holds elsewhere (name, size, objects, masks; ``fps``, which
#: ``-w json=true`` adds): every other top-level JSON scalar is the video's metadata.
STRUCTURE = frozenset({"video_id", "video_height", "video_width", "fps", "masklet", "masklet_num", STABILITY, *OBJECT_FIELDS})
#: The per-frame value an auto masklet carries, kept on each mask (1.0 where SA-V has the object invisible).
STABILITY_VALUE = "stability_score"


def frame_name(index: int) -> str:
    """SAM 2's extraction name of video frame ``index``: ``f"{index:05d}.jpg"``."""
    return f"{index:05d}.jpg"
