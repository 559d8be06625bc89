"""converters.codecs.libdeflate: inflating into an array we own, through libdeflate's C API."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from converters.codecs import libdeflate

pytestmark = pytest.mark.skipif(not libdeflate.available(), reason="this deflate build does not export libdeflate")

DATA = bytes(range(256)) * 40


def test_inflates_into_the_array_and_says_how_much():
    out = np.zeros(len(DATA) + 10, np.uint8)
    assert libdeflate.zlib_decompress_into(zlib.compress(DATA), out) == len(DATA)
    assert out[: len(DATA)].tobytes() == DATA


@pytest.mark.parametrize(
    ("stream", "room"),
    [(b"not zlib at all", len(DATA)), (zlib.compress(DATA)[:-6], len(DATA)), (zlib.compress(DATA), len(DATA) - 1)],
    ids=["garbage", "cut", "does-not-fit"],
)
def test_corrupt_cut_or_too_big_is_none(stream, room):
    assert libdeflate.zlib_decompress_into(stream, np.zeros(room, np.uint8)) is None


def test_needs_a_writeable_contiguous_array():
    with pytest.raises(ValueError, match="C-contiguous"):
        libdeflate.zlib_decompress_into(zlib.compress(DATA), np.zeros((2, 2 * len(DATA)), np.uint8)[:, ::2])
    frozen = np.zeros(len(DATA), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        libdeflate.zlib_decompress_into(zlib.compress(DATA), frozen)
