"""On-disk names every DAVIS-style folder layout shares (MOSE, DAVIS, YouTube-VOS, and those to come).

One place for them, so a reader, a writer, detection and the sample generator cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The frame folder: ``JPEGImages/<video>/NNNNN.jpg``.
IMAGES = "JPEGImages"
#: The mask folder beside it: ``Annotations/<video>/NNNNN.png``.
ANNOTATIONS = "Annotations"
#: What a frame file may end with (any case): JPEG only; a PNG among the frames is not a frame.
IMAGE_SUFFIXES = (".jpg", ".jpeg")
#: What a mask file ends with.
MASK_SUFFIX = ".png"
#: The split folders MOSE, MOSEv2 and YouTube-VOS ship (and common others), lower case.
SPLIT_NAMES = frozenset({"train", "valid", "val", "test", "trainval", "train_all_frames", "valid_all_frames", "test_all_frames"})
#: The marker in the root of every folder-layout output: vosconv wrote this folder.
MARKER = ".vosconv.json"
#: What the marker's ``written_by`` says.
WRITTEN_BY = "vosconv"
#: Files a desktop writes into any folder it shows (Finder, Explorer): metadata about the folder, no one's data.
DESKTOP_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


def is_desktop_file(name: str) -> bool:
    """A desktop's own file (:data:`DESKTOP_FILES`, or macOS's ``._name`` resource forks on other file systems)."""
    return name in DESKTOP_FILES or name.startswith("._")


@dataclass(frozen=True)
class FrameNames:
    """How a layout names its frame files: the stem's ``number`` group gives the frame order (numeric, any width).

    Most layouts use the bare number (``00005.jpg``); VOST prefixes it (``frame00005.jpg``).
    """

    pattern: re.Pattern[str]  # matched against the whole stem
    example: str  # what an error shows a frame name should look like

    def number(self, stem: str) -> int | None:
        """The frame number ``stem`` names, or None when it is not named like this layout's frames."""
        found = self.pattern.fullmatch(stem)
        return int(found.group("number")) if found else None


#: ``00000.jpg``, ``5.jpg``, ``00000001.jpg`` (ASCII digits only: ``int()`` takes other digits ``isdigit()`` does not).
NUMBERED = FrameNames(re.compile(r"(?P<number>[0-9]+)"), "00000")


def no_frames(folders: list[str]) -> str:
    """Why a video folder gave no frame; folders inside it mean another layout's frames, a level deeper."""
    if not folders:
        return "video has no frames"
    shown = ", ".join(folders[:3]) + (", ..." if len(folders) > 3 else "")
    return (
        f"video has no frames, only folders ({shown}): another layout, whose frames sit a level deeper "
        "(DAVIS's JPEGImages/480p/<video>/)? leave --from out to detect it"
    )


def frameless(stems: list[str], image_dir: str | None) -> str:
    """Annotations ``stems`` have no frame: where it was looked for shows a wrong resolution folder or a partial download."""
    more = f"; {len(stems) - 1} more of this video's annotations have none" if len(stems) > 1 else ""
    return f"annotation without a frame of the same name (no {stems[0]}.jpg in {image_dir}){more}"
