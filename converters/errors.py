"""The exceptions vosconv raises on purpose. Each names what went wrong and where."""

from __future__ import annotations

import os


class VosconvError(Exception):
    """Base of every error vosconv reports to users (the CLI prints these without a traceback)."""


class SourceError(VosconvError):
    """A source file or folder that cannot be read as claimed: names the file and the cause."""

    def __init__(self, path: str | os.PathLike, cause: str | None = None) -> None:
        if cause is None:  # one whole message, as torch's DataLoader rebuilds a worker's error
            self.path, self.cause = "", str(path)
            super().__init__(self.cause)
            return
        self.path = os.fspath(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")

    def __reduce__(self):  # keep both fields when crossing a process boundary
        return (type(self), (self.path, self.cause) if self.path else (self.cause,))


def absolute_path(path: str | os.PathLike) -> str:
    """``path`` as reports name a file (``errors.jsonl``, every ``--json``): absolute, the same from any folder.

    Only the part the current folder stands for is made absolute (a leading ``..`` climbs from the real current
    folder); the rest is kept as written, links and all, since a ``..`` further on can be part of an archive
    member's name (``data.zip/../x.png``), which ``os.path.abspath`` would fold into another file's path.
    """
    text = os.fspath(path)
    if not text or os.path.isabs(text):
        return text
    base, parts = os.getcwd(), text.split(os.sep)
    while parts and parts[0] in (".", "..", ""):
        if parts.pop(0) == "..":
            base = os.path.dirname(base)
    return os.path.join(base, *parts)


class DetectionError(VosconvError):
    """No reader (or more than one) recognises a source."""


class OptionError(VosconvError, ValueError):
    """A bad option value; ``where`` names the option (a CLI flag or a YAML path). Also a ``ValueError``."""

    def __init__(self, where: str, message: str | None = None) -> None:
        if message is None:  # one whole message, as torch's DataLoader rebuilds a worker's error
            self.where, self.message = "", where
            super().__init__(where)
            return
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return (type(self), (self.where, self.message) if self.where else (self.message,))


class OutputError(VosconvError):
    """The output cannot be written where asked (it exists, or is not writable)."""


class MissingDependency(VosconvError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


def install_hint(extra: str | None = None) -> str:
    """The pip command that installs ``extra`` (None: vosconv's own dependencies), also in the form a clone needs:
    the README installs vosconv from a checkout, where ``pip install 'vosconv[x]'`` finds nothing to install."""
    if extra is None:
        return "reinstall vosconv with its dependencies: pip install vosconv (in a checkout: pip install .)"
    return f"pip install 'vosconv[{extra}]' (in a checkout: pip install '.[{extra}]')"


class VosconvWarning(UserWarning):
    """Something legal but probably unintended, worth telling the user (the CLI prints it as a warning)."""
