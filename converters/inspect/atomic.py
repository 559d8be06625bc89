"""Files the inspect commands write (tables, plots, previews), whole or not at all.

Each goes to a hidden temporary file beside its name (``.<name>.vosconv-tmp``), renamed into place once
complete; any failure or Ctrl-C removes the temporary file, so no half-written file is left under the name.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from ..errors import OutputError

#: What the temporary file adds to a name: ``.<name>.vosconv-tmp``.
TMP_BYTES = len("..vosconv-tmp")


def write_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """``write(tmp)`` then rename ``tmp`` to ``path``; an OSError is an OutputError naming ``path``."""
    tmp = path.with_name(f".{path.name}.vosconv-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:  # Ctrl-C, or a library's own errors (matplotlib's, pyarrow's)
        _discard(tmp)
        raise
    return path


def _discard(tmp: Path) -> None:
    """Remove a temporary file if it is there (its folder may be what failed)."""
    with contextlib.suppress(OSError):
        tmp.unlink()
