"""What the Parquet and HDF5 readers share: the manifest, the image folder, per-process shard handles.

A sharded output is read through its ``manifest.json``; shard files are opened lazily, once
per process (``HandleCache``), because the reader is pickled to worker processes and open
handles (h5py's above all) must never cross a fork.
"""

from __future__ import annotations

import warnings
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ...errors import SourceError, VosconvWarning
from ...model import DatasetInfo
from ...reader import Detection, Reader, VideoRef
from ...sources.handles import HandleCache
from . import manifest as shards


@dataclass(frozen=True)
class ShardedOptions:
    images: str | None = None  # folder that non-embedded frames are relative to; default: the recorded image root
    verify: bool = False  # check every shard's size and sha256 against the manifest before reading


class ShardedReader(Reader):
    """A folder of shard files plus ``manifest.json``; subclasses say how to open a shard and read a video."""

    Options = ShardedOptions
    #: Opens one shard file (a module-level function, so the handle cache pickles).
    open_shard: ClassVar[Callable[[str], Any]]

    def __init__(self, source, options=None) -> None:
        super().__init__(source, options)
        self._manifest: shards.Manifest | None = None
        self._images: str | None = None  # the folder of non-embedded frames, once known
        self._images_known = False
        self._shards = HandleCache(type(self).open_shard)

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        return shards.sniff(source, cls.name)

    def __getstate__(self) -> dict:
        # a worker needs the image folder, not the manifest (which lists every video)
        if self._manifest is None:
            return self.__dict__.copy()
        self._image_dir()
        return {**self.__dict__, "_manifest": None}

    def _image_dir(self) -> str | None:
        if not self._images_known:
            self._images = shards.images_folder(self.options.images, self.manifest)
            self._images_known = True
        return self._images

    @property
    def manifest(self) -> shards.Manifest:
        if self._manifest is None:
            self._manifest = shards.load_manifest(self.source, self.name)
        return self._manifest

    def list_videos(self) -> list[VideoRef]:
        listed = {v.name: v for v in self.manifest.videos}  # the same videos as the shards' lists (load_manifest)
        refs = []
        for shard in self.manifest.shards:
            self.check_shard(shard)
            self._check_held(shard)
            refs += [self.shard_video(shard, name, listed.get(name)) for name in shard.videos]
        return sorted(refs, key=lambda r: r.name)

    def _check_held(self, shard: shards.ShardEntry) -> None:
        """A shard holding a video its manifest entry does not name (an entry deleted from both of the manifest's
        lists) would convert without it, in silence: the manifest no longer describes the output."""
        path = self.source / shard.file
        unlisted = set(self.held_videos(str(path))).difference(shard.videos)
        if unlisted:
            cause = f"holds {len(unlisted)} video(s) its manifest entry does not list, {min(unlisted)!r} first"
            raise SourceError(path, f"{cause}: the manifest does not describe the shards it lists")

    @abstractmethod
    def held_videos(self, path: str) -> list[str]:
        """The names of the videos the shard file ``path`` holds, by its own index (a footer, its groups)."""

    def video_ref(self, name: str) -> VideoRef:
        """The ref of one video the manifest lists, from its own shard alone (the loader reads videos one at a time).

        A video its shard lacks is that video's SourceError, naming the shard; the other videos still read.
        """
        entry = next((v for v in self.manifest.videos if v.name == name), None)
        if entry is None:
            raise SourceError(self.source / shards.MANIFEST, f"no video {name!r} in the manifest")
        shard = self.manifest.shards[entry.shard]
        if name not in shard.videos:
            cause = f"video {name!r}: the manifest puts it in this shard but does not list it there"
            raise SourceError(self.source / shard.file, cause)
        self.check_shard(shard)
        return self.shard_video(shard, name, entry)

    def check_shard(self, shard: shards.ShardEntry) -> None:
        """Before a shard's videos are listed: its size and sha256 with the ``verify`` option."""
        if self.options.verify:
            shards.verify_shard(self.source, shard)

    @abstractmethod
    def shard_video(self, shard: shards.ShardEntry, name: str, entry: shards.VideoEntry | None) -> VideoRef:
        """The ref of video ``name`` of ``shard``; ``entry`` is what the manifest says of it (checked on reading)."""

    def check_integrity(self) -> list[SourceError]:
        """Every shard's size and sha256 against the manifest: damage the per-read checks cannot see (JPEG bytes)."""
        errors = []
        for entry in self.manifest.shards:
            try:
                shards.verify_shard(self.source, entry)
            except SourceError as error:
                errors.append(error)
        return errors

    def roots(self) -> list[Path]:
        """The shards and their manifest, and the image folder only when frames are not embedded (else it is never read)."""
        images = None if self.manifest.options.get("images", True) else self._image_dir()
        return [self.source, self.source / shards.MANIFEST, *([Path(images)] if images else [])]

    def recorded_images(self) -> str | None:
        """The recorded image folder, when frames are not embedded and no ``images`` option names another."""
        if self.manifest.options.get("images", True) or self.options.images is not None:
            return None
        return self._image_dir()

    def missing_images(self) -> str | None:
        """Frames not embedded whose folder is gone, and no ``images`` option: a writer that embeds images refuses before
        writing, as for any source that names frames it cannot supply (a folder layout refused the first frame)."""
        if self.manifest.options.get("images", True) or self._image_dir() is not None or not self.manifest.shards:
            return None
        recorded = self.manifest.source.get("image_root")
        if recorded:
            return f"its frames are not embedded and their folder {recorded} (recorded in its manifest) does not exist"
        return "its frames are not embedded, its manifest records no images folder, and no images option (--images DIR) was given"

    def info(self) -> DatasetInfo:
        images = shards.images_folder(self.options.images, self.manifest)
        if images is None and not self.manifest.options.get("images", True):
            where = "the image folder is gone" if self.manifest.source.get("image_root") else "no image folder is recorded"
            warnings.warn(
                f"{self.source}: images are not embedded and {where} "
                "(pass --images DIR, or images=DIR in -r and the Python API); its frames are read without images",
                VosconvWarning,
                stacklevel=2,
            )
        return self.manifest.info(self.name, images)

    def close(self) -> None:
        self._shards.close()
