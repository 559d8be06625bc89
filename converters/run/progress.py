"""The progress bar a run shows on stderr: tqdm when shown, a no-op that imports nothing when hidden."""

from __future__ import annotations

import sys


class NoBar:
    """What a hidden bar does: nothing, without importing tqdm (and the multiprocessing lock it makes)."""

    def update(self, amount: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool | None):
    """A progress bar on stderr: shown when ``enabled``, or with None only when stderr is a terminal."""
    if enabled is False or (enabled is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())):
        return NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="video", leave=False, dynamic_ncols=True)
