"""Plugin options: built from YAML values or CLI text, checked key by key, errors naming where the value came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import pytest

from converters import options
from converters.errors import OptionError

WHERE = "pipelines.x.writer_options.coco"


@dataclass(frozen=True)
class Opts:
    name: str = "a"
    level: int = 6
    ratio: float = 0.5
    fast: bool = False
    mode: Literal["fast", "small"] = "fast"
    limit: int | None = None
    label: Optional[str] = None  # noqa: UP045 -- the typing.Optional spelling must work too


@dataclass(frozen=True)
class Checked:
    level: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 9:
            raise ValueError(f"level must be 0..9, got {self.level}")


def test_defaults_when_no_values():
    assert options.build(Opts, None, WHERE) == Opts()
    assert options.build(Opts, {}, WHERE) == Opts()


def test_native_yaml_values():
    built = options.build(
        Opts, {"name": "b", "level": 3, "ratio": 2, "fast": True, "mode": "small", "limit": 7, "label": "x"}, WHERE
    )
    assert built == Opts("b", 3, 2.0, True, "small", 7, "x")
    assert isinstance(built.ratio, float)


def test_text_values_from_the_cli():
    text = {"name": "3", "level": "3", "ratio": "0.25", "fast": "true", "mode": "small", "limit": "12", "label": "none"}
    built = options.build(Opts, text, WHERE)
    assert built == Opts("3", 3, 0.25, True, "small", 12, None)
    assert isinstance(built.level, int)
    assert built.name == "3"  # a str field keeps the text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("True", True), ("yes", True), ("on", True), ("1", True), ("false", False), ("NO", False), ("off", False)],
)
def test_bool_from_text(text, expected):
    assert options.build(Opts, {"fast": text}, WHERE).fast is expected


@pytest.mark.parametrize("text", ["none", "None", "null"])
def test_optional_from_text_none(text):
    assert options.build(Opts, {"limit": text, "label": text}, WHERE) == Opts()


def test_optional_accepts_none_and_values():
    assert options.build(Opts, {"limit": None}, WHERE).limit is None
    assert options.build(Opts, {"limit": "5"}, WHERE).limit == 5
    assert options.build(Opts, {"label": "abc"}, WHERE).label == "abc"


def test_int_text_with_underscores():
    assert options.build(Opts, {"level": "1_000"}, WHERE).level == 1000


def test_unknown_key_names_it_and_lists_allowed_ones():
    with pytest.raises(OptionError) as caught:
        options.build(Opts, {"levle": 3}, WHERE)
    assert caught.value.where == f"{WHERE}.levle"
    message = str(caught.value)
    assert message.startswith(f"{WHERE}.levle: unknown option")
    for name in ("fast", "label", "level", "limit", "mode", "name", "ratio"):
        assert name in message


def test_unknown_key_suggests_the_nearest_option():
    """A typo in ``-r``/``-w`` names the option meant, as a wrong format or split name does."""
    with pytest.raises(OptionError) as caught:
        options.build(Opts, {"levle": 3}, WHERE)
    assert str(caught.value) == (
        f"{WHERE}.levle: unknown option; did you mean 'level' or 'label'? (allowed: fast, label, level, limit, mode, name, ratio)"
    )
    with pytest.raises(OptionError) as far:
        options.build(Opts, {"colour": 3}, WHERE)
    assert "did you mean" not in str(far.value)


def test_unknown_key_for_a_plugin_without_options():
    with pytest.raises(OptionError, match=r"reader options\.split: unknown option \(allowed: none\)"):
        options.build(options.NoOptions, {"split": "train"}, "reader options")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("level", "fast", "expected int, got 'fast'"),
        ("level", 2.5, "expected int, got 2.5"),
        ("level", True, "expected int, got True"),
        ("level", None, "expected int, got None"),
        ("ratio", "half", "expected float, got 'half'"),
        ("ratio", False, "expected float, got False"),
        ("fast", "maybe", "expected true or false, got 'maybe'"),
        ("fast", 1, "expected true or false, got 1"),
        ("name", 3, "expected a string, got 3"),
        ("mode", "medium", "expected one of 'fast', 'small', got 'medium'"),
        ("limit", "lots", "expected int, got 'lots'"),
        ("label", 4, "expected a string, got 4"),
    ],
)
def test_wrong_type_names_the_path(key, value, expected):
    with pytest.raises(OptionError) as caught:
        options.build(Opts, {key: value}, WHERE)
    assert caught.value.where == f"{WHERE}.{key}"
    assert str(caught.value) == f"{WHERE}.{key}: {expected}"


def test_compresslevel_of_the_coco_writer():
    from converters.formats.coco.writer import CocoWriter

    where = "pipelines.x.writer_options.coco"
    assert options.build(CocoWriter.Options, {"compresslevel": "9"}, where).compresslevel == 9
    with pytest.raises(OptionError, match=r"^pipelines\.x\.writer_options\.coco\.compresslevel: expected int"):
        options.build(CocoWriter.Options, {"compresslevel": "max"}, where)


def test_validation_in_the_dataclass_is_reported_where():
    assert options.build(Checked, {"level": "9"}, WHERE).level == 9
    with pytest.raises(OptionError) as caught:
        options.build(Checked, {"level": 12}, WHERE)
    assert caught.value.where == WHERE
    assert "level must be 0..9, got 12" in str(caught.value)


def test_fields_resolves_annotations():
    assert options.fields(Opts)["level"] is int
    assert options.fields(Checked) == {"level": int}


# ------------------------------------------------------------------ parse_pairs


def test_parse_pairs():
    pairs = ["split=train", "compress-level=9", "empty=", "expr=a=b", " spaced =x"]
    assert options.parse_pairs(pairs, "--reader-option") == {
        "split": "train",
        "compress_level": "9",
        "empty": "",
        "expr": "a=b",
        "spaced": "x",
    }


def test_parse_pairs_none_or_empty():
    assert options.parse_pairs(None, "-o") == {}
    assert options.parse_pairs([], "-o") == {}


@pytest.mark.parametrize("pair", ["split", "=train", ""])
def test_parse_pairs_rejects_malformed(pair):
    with pytest.raises(OptionError) as caught:
        options.parse_pairs(["ok=1", pair], "--writer-option")
    assert caught.value.where == "--writer-option"
    assert f"expected KEY=VALUE, got {pair!r}" in str(caught.value)


def test_parse_pairs_then_build():
    """The CLI path end to end: text pairs become typed options."""
    values = options.parse_pairs(["level=4", "fast=yes", "limit=none"], "-o")
    assert options.build(Opts, values, "-o") == Opts(level=4, fast=True, limit=None)


@dataclass(frozen=True)
class Levels:
    level: Literal[1, 3, 9] = 3


def test_literal_of_ints_from_yaml_and_cli_text():
    """A Literal of ints takes the YAML int and, like an int field, the CLI text of one."""
    assert options.build(Levels, {"level": 9}, "-o").level == 9
    assert options.build(Levels, {"level": "9"}, "-o").level == 9
    with pytest.raises(OptionError, match="expected one of 1, 3, 9"):
        options.build(Levels, {"level": "4"}, "-o")
