"""YouTube-VOS's on-disk names: each split folder's ``meta.json`` beside the folder pair."""

from __future__ import annotations

#: Each object's category and frames, per video: ``{"videos": {"<video>": {"objects": {"<id>": {...}}}}}``.
META = "meta.json"
