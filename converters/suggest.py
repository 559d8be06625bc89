"""Suggestions ("did you mean ...?") for names a user typed: formats, splits, resolutions."""

from __future__ import annotations

from collections.abc import Iterable


def close_matches(word: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The choices nearest to ``word``, nearest first, compared without regard to case."""
    import difflib  # only on the error path: it costs a few milliseconds of start-up

    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.lower(), choice)
    found = difflib.get_close_matches(word.lower(), list(by_folded), n=limit, cutoff=0.6)
    return [by_folded[f] for f in found]


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` did you mean 'train'?`` (with a leading space) when a choice is close to ``word``, else ``""``."""
    found = close_matches(word, choices)
    if not found:
        return ""
    return f" did you mean {' or '.join(repr(f) for f in found)}?"
