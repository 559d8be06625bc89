"""sources/jsonscan.py: a big JSON document read one top-level value or list element at a time, from any binary
stream, each element with the byte range it has in the file."""

from __future__ import annotations

import codecs
import io
import json
import tracemalloc

import pytest

from converters.errors import SourceError
from converters.sources import jsonscan

DOCUMENT = {
    "info": {"name": "caf\u00e9"},  # two bytes in UTF-8: byte ranges after it are not character positions
    "videos": [{"id": 1, "names": ["a", "b"]}, 7, None, {"id": 2, "note": "\u2603" * 5}],
    "annotations": [],
    "categories": [{"id": 1}],
}


class OneWay(io.RawIOBase):
    """A stream that can only be read forward, a few bytes at a time (a pipe, a gzip stream)."""

    def __init__(self, data: bytes, step: int = 5) -> None:
        self.data, self.at, self.step = data, 0, step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.data[self.at : self.at + min(len(buffer), self.step)]
        buffer[: len(piece)] = piece
        self.at += len(piece)
        return len(piece)


def scanned(data: bytes, monkeypatch, window: int) -> tuple[dict, list]:
    monkeypatch.setattr(jsonscan, "WINDOW", window)
    found: list = []
    visit = {key: (lambda n, v, s, key=key: found.append((key, n, v, s))) for key in ("videos", "annotations")}
    header = jsonscan.scan(io.BufferedReader(OneWay(data)), "doc.json", visit, "a test JSON")
    return header, found


@pytest.mark.parametrize("window", [1, 3, 64, 1 << 20])
@pytest.mark.parametrize("bom", [b"", codecs.BOM_UTF8])
def test_elements_and_their_byte_ranges_from_a_stream_that_only_reads_forward(monkeypatch, window, bom):
    """Whatever the window, each element comes once, in order, with the range of its bytes in the file (a UTF-8
    byte order mark, which json.load passes over, included in the offsets)."""
    data = bom + json.dumps(DOCUMENT, ensure_ascii=False, indent=1).encode()
    header, found = scanned(data, monkeypatch, window)
    assert header == {**DOCUMENT, "videos": [], "annotations": []}
    assert [(key, n, v) for key, n, v, _ in found] == [("videos", n, v) for n, v in enumerate(DOCUMENT["videos"])]
    assert [json.loads(data[s[0] : s[0] + s[1]]) for *_, s in found] == DOCUMENT["videos"]


@pytest.mark.parametrize(
    ("text", "malformed", "says"),
    [
        (b'{"videos": [1, 2', True, r"the file ends early|videos/1 \(byte 15\): the file ends inside it"),
        (b'{"videos": [1,]}', True, r"videos/1 \(byte 14\): malformed JSON: Expecting value"),
        (b'{"videos": [{"a" 1}]}', True, r"videos/0 \(byte 12\): malformed JSON: Expecting ':' delimiter"),
        (b'{"info": {"a": x}}', True, r"the top-level 'info' \(byte 9\): malformed JSON: Expecting value"),
        (b'{"videos": [1, tr', True, r"videos/1 \(byte 15\): the file ends inside it"),
        (b'{"videos": [1, "\\u00', True, r"videos/1 \(byte 15\): the file ends inside it"),
        (b'{"videos": [1, {"a": -', True, r"videos/1 \(byte 15\): the file ends inside it"),
        (b'{"videos": [1 2]}', True, r"malformed JSON at byte 14: expected ',' or '\]' after an element of videos"),
        (b'{"videos": [1], "videos": [2]}', True, r"at byte 16: the top-level key 'videos' is given twice"),
        (b'{"videos": [1], "videos": null}', True, r"at byte 16: the top-level key 'videos' is given twice"),
        (b'{"videos": null, "videos": [1]}', True, r"at byte 17: the top-level key 'videos' is given twice"),
        (b'{"info": {}, "videos": [], "info": 1}', True, r"at byte 27: the top-level key 'info' is given twice"),
        (b'{"videos": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", False, r"videos/0 \(byte 12\): nested too deeply"),
        (b'{"videos": ["\xff"]}', False, r"not UTF-8 text \(invalid start byte at byte 13\)"),
        (b'{"videos": [' + b"9" * 5000 + b"]}", False, r"videos/0 \(byte 12\): Exceeds the limit"),
    ],
)
def test_a_fault_says_where_and_whether_the_text_is_json(monkeypatch, text, malformed, says):
    with pytest.raises(jsonscan.JsonFault, match=says) as caught:
        scanned(text, monkeypatch, 1 << 20)
    assert caught.value.malformed is malformed and caught.value.path == "doc.json"


@pytest.mark.parametrize(("text", "says"), [(b"  ", "empty file, not a test JSON"), (b"[1]", "not a test JSON object")])
def test_a_document_that_is_not_an_object(monkeypatch, text, says):
    with pytest.raises(SourceError, match=says):
        scanned(text, monkeypatch, 1 << 20)


@pytest.mark.parametrize(
    "around", [(b'{"videos": [1', b", 2]}"), (b'{"info": 1', b', "videos": [2]}'), (b"", b'{"videos": [2]}')]
)
def test_a_long_run_of_whitespace_is_let_go_as_it_is_read(monkeypatch, around):
    """Whitespace between elements, top-level values or before the object was held until the next value came:
    megabytes of it (nothing else) grew the window to their size."""
    data = around[0] + b" \n" * (2 << 20) + around[1]
    monkeypatch.setattr(jsonscan, "WINDOW", 4096)
    file = io.BytesIO(data)
    tracemalloc.start()
    try:
        header = jsonscan.scan(file, "doc.json", {"videos": lambda *_: None}, "a test JSON")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert header["videos"] == [] and peak < 256 << 10  # the text of the run: 4 MB


NUMBERS = b'{"version": 1.5, "videos": [-1.5e-3, 10E+2, 0.25, 7e1, {"x": 2.5E-1}], "year": 2019}'


@pytest.mark.parametrize("window", range(1, 48))
def test_a_number_cut_by_the_window_after_its_point_or_exponent_is_read_whole(monkeypatch, window):
    """A number the window cut after its ``.`` or ``e`` decoded as the digits before it, and the file, valid JSON,
    was refused at the ``.``: the window reads on whenever the text after a number could still be part of it."""
    header, found = scanned(NUMBERS, monkeypatch, window)
    assert header == {**json.loads(NUMBERS), "videos": []}
    assert [v for *_, v, _ in found] == json.loads(NUMBERS)["videos"]


def test_every_cut_of_a_document_says_the_file_ends_early(monkeypatch):
    """Cut anywhere (inside a key, a string, an escape, a multi-byte character, a literal, a number, after a key),
    the file is said to end early, never to be malformed where its text ends."""
    data = json.dumps({"videos": [True, -1.5e-3, 10e2, 'x\\y"z\u00e9\U0001f600', {"k": [None]}], "info": {"a": 2}})
    data = data.replace(" ", "\n ").encode()
    for cut in range(len(data)):
        with pytest.raises(SourceError, match=r"ends inside it|ends early|empty file|not UTF-8 text \(unexpected end"):
            scanned(data[:cut], monkeypatch, 1 << 20)
