"""A bounded, deterministic fuzz test of converters.codecs.png against Pillow.

Valid PNGs of every kind the readers take (palette at 1/2/4/8 bits, 8-bit and 0/255 grayscale,
1/2/4-bit grayscale, interlaced, with tRNS/iCCP/tEXt chunks, every filter type, the image data
over several IDAT chunks; written by Pillow, by ``png.encode`` and by ``tests.pngs.make_png``)
are mutated: bit flips, chunk bodies edited with their CRCs recomputed, IHDR fields changed,
chunks deleted, duplicated, moved or inserted, the image data truncated, extended, re-filtered
and re-split. Each mutant must keep the decoder's promise:

- ``decode`` and ``read_header`` raise nothing but ``PngError``;
- an array ``decode`` returns has the header's shape and Pillow's values (Pillow as the
  reference, with the decoder's mode handling: P and L as they are, mode 1 as 0/255), so
  whatever Pillow refuses is refused.

The decoder may refuse more than Pillow (colour PNGs, a bad CRC in a chunk Pillow skips, a
second IHDR, data the specification forbids): a refusal is always allowed. Seeds are fixed,
so a failure names the seed file and mutant number that reproduce it.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import Callable

import numpy as np
import pytest

from converters.codecs import libdeflate, png

from .pngs import chunk, make_png, pillow_png, pillow_values, random_values

pytestmark = pytest.mark.slow

MUTANTS_PER_SEED = 700
Chunks = list[tuple[bytes, bytes]]


def parse(data: bytes) -> Chunks:
    """The (type, body) chunks of a well-formed PNG."""
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        chunks.append((data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]))
        pos += 12 + length
    return chunks


def serialise(chunks: Chunks) -> bytes:
    return png.SIGNATURE + b"".join(chunk(kind, body) for kind, body in chunks)


# --------------------------------------------------------------------------- the seed files


def _seeds() -> dict[str, bytes]:
    mask = random_values(11, 13, 19, 8) % 5
    gradient = np.add.outer(np.arange(9) * 7, np.arange(14) * 3).astype(np.uint8)
    extra = chunk(b"tRNS", bytes([0, 255, 128])) + chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"profile"))
    extra += chunk(b"tEXt", b"Comment\x00mask")
    seeds = {f"pillow-P-{bits}bit": pillow_png(random_values(bits, 9, 13, bits), "P", bits=bits) for bits in (1, 2, 4, 8)}
    seeds |= {
        "encode-P": png.encode(mask, "P", png.DAVIS_PALETTE),
        "encode-L": png.encode(mask, "L"),
        "encode-L-0-255": png.encode((mask > 2).astype(np.uint8) * 255, "L"),
        "pillow-L-filtered": pillow_png(gradient, "L"),
        "pillow-1bit": pillow_png((random_values(3, 7, 11, 1) * 255).astype(np.uint8), "1"),
        "pillow-P-transparency": pillow_png(mask, "P", png.DAVIS_PALETTE[:30], transparency=0),
        "gray-2bit": make_png(random_values(2, 6, 9, 2), colour=0, depth=2, filters=(0, 1, 2, 3, 4)),
        "gray-4bit": make_png(random_values(4, 5, 7, 4), colour=0, depth=4, filters=(4, 3)),
        "interlaced-P-8bit": make_png(mask, interlace=True, filters=(1, 4, 0)),
        "interlaced-P-2bit": make_png(random_values(5, 10, 9, 2), depth=2, interlace=True, filters=(2, 3)),
        "interlaced-gray-1bit": make_png(random_values(6, 9, 10, 1), colour=0, depth=1, interlace=True),
        "interlaced-gray-8bit": make_png(gradient, colour=0, interlace=True, filters=(0, 1, 2, 3, 4)),
        "P-every-filter-ancillary": make_png(mask, filters=(0, 1, 2, 3, 4), idat_chunks=3, extra=extra),
        "P-4bit-split": make_png(random_values(7, 8, 15, 4), depth=4, filters=(1, 2, 3, 4), idat_chunks=2),
        "L-one-pixel": make_png(np.full((1, 1), 7, np.uint8), colour=0),
    }
    return seeds


SEEDS = _seeds()


# --------------------------------------------------------------------------- mutations


def _pick(chunks: Chunks, rng: np.random.Generator) -> int:
    return int(rng.integers(len(chunks)))


def edit_ihdr(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    """One IHDR field set to a neighbouring, boundary or random value."""
    index = next((i for i, (kind, _) in enumerate(chunks) if kind == b"IHDR"), None)
    if index is None or len(chunks[index][1]) != 13:
        return chunks
    fields = list(struct.unpack(">IIBBBBB", chunks[index][1]))
    field = int(rng.integers(7))
    if field < 2:
        size = fields[field]
        fields[field] = int(rng.choice([0, 1, size - 1, size + 1, size * 2, size // 2, 2**31 - 1, 2**32 - 1, 100_000]))
        fields[field] = max(0, min(fields[field], 2**32 - 1))
    elif field == 2:
        fields[2] = int(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 255]))
    elif field == 3:
        fields[3] = int(rng.integers(0, 8))
    else:
        fields[field] = int(rng.choice([0, 1, 2, 255]))
    chunks[index] = (b"IHDR", struct.pack(">IIBBBBB", *fields))
    return chunks


def edit_body(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    """A few bytes of one chunk's body changed (the CRC recomputed, so only the content is wrong)."""
    index = _pick(chunks, rng)
    kind, body = chunks[index]
    if not body:
        return chunks
    body = bytearray(body)
    for _ in range(int(rng.integers(1, 4))):
        body[int(rng.integers(len(body)))] = int(rng.integers(256))
    chunks[index] = (kind, bytes(body))
    return chunks


def resize_body(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    index = _pick(chunks, rng)
    kind, body = chunks[index]
    cut = int(rng.integers(len(body) + 1))
    chunks[index] = (kind, body[:cut] if rng.random() < 0.6 else body + rng.bytes(int(rng.integers(1, 8))))
    return chunks


def delete_chunk(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    del chunks[_pick(chunks, rng)]
    return chunks or [(b"IEND", b"")]


def duplicate_chunk(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    index = _pick(chunks, rng)
    chunks.insert(int(rng.integers(len(chunks) + 1)), chunks[index])
    return chunks


def move_chunk(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    moved = chunks.pop(_pick(chunks, rng))
    chunks.insert(int(rng.integers(len(chunks) + 1)), moved)
    return chunks


def rename_chunk(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    """One chunk's type changed: case bits flipped, or another known or random type."""
    index = _pick(chunks, rng)
    kind, body = chunks[index]
    names = [b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"iCCP", b"acTL", b"fcTL", b"CRIT", b"ab1d", rng.bytes(4)]
    if rng.random() < 0.5:
        kind = bytes(byte ^ (0x20 if rng.random() < 0.3 else 0) for byte in kind)
    else:
        kind = names[int(rng.integers(len(names)))]
    chunks[index] = (kind, body)
    return chunks


#: Ancillary chunks Pillow accepts and refuses (empty iCCP, short tRNS or pHYs, a zTXt that is not zlib).
ANCILLARY = [
    (b"iCCP", b""),
    (b"iCCP", b"name"),
    (b"iCCP", b"name\x00\x01data"),
    (b"iCCP", b"name\x00\x00" + zlib.compress(b"icc")),
    (b"tRNS", b""),
    (b"tRNS", b"\x00"),
    (b"tRNS", bytes(300)),
    (b"tEXt", b"no separator"),
    (b"tEXt", b"Key\x00\xff\xfe"),
    (b"zTXt", b"Key\x00\x00not zlib"),
    (b"zTXt", b"Key\x00\x01" + zlib.compress(b"x")),
    (b"iTXt", b"Key\x00\x01\x00en\x00\x00" + zlib.compress(b"text")),
    (b"iTXt", b"Key"),
    (b"pHYs", b"\x00\x01"),
    (b"gAMA", b""),
    (b"cHRM", bytes(3)),
    (b"sRGB", b""),
    (b"eXIf", b"junk"),
    (b"tIME", bytes(7)),
    (b"acTL", struct.pack(">II", 1, 0)),
]


def insert_ancillary(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    chunks.insert(int(rng.integers(1, len(chunks) + 1)), ANCILLARY[int(rng.integers(len(ANCILLARY)))])
    return chunks


def _image_data(chunks: Chunks) -> tuple[int, int, bytes] | None:
    """(first IDAT index, IDAT count, the zlib stream) of the first run of IDAT chunks."""
    first = next((i for i, (kind, _) in enumerate(chunks) if kind == b"IDAT"), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(chunks) and chunks[last + 1][0] == b"IDAT":
        last += 1
    return first, last + 1 - first, b"".join(body for _, body in chunks[first : last + 1])


def restream(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    """The image data inflated, changed (rows cut or added, a filter byte or pixel bytes rewritten,
    junk after the stream), compressed again and split over 1-3 IDAT chunks."""
    found = _image_data(chunks)
    if found is None:
        return chunks
    first, count, stream = found
    try:
        raw = bytearray(zlib.decompressobj().decompress(stream, 1 << 20))
    except zlib.error:
        return chunks
    choice = int(rng.integers(6))
    if choice == 0 and raw:
        raw = raw[: int(rng.integers(len(raw)))]
    elif choice == 1:
        raw += raw[: int(rng.integers(1, 64))] or b"\x00"
    elif choice == 2 and raw:  # a filter byte (right where rows start when the guess of the row length is right)
        ihdr = chunks[0][1] if chunks[0][0] == b"IHDR" and len(chunks[0][1]) == 13 else None
        width, _, depth = struct.unpack(">IIB", ihdr[:9]) if ihdr else (1, 0, 8)
        row = (width * max(depth, 1) + 7) // 8 + 1
        raw[row * int(rng.integers(max(len(raw) // row, 1))) % len(raw)] = int(rng.integers(0, 8))
    elif choice == 3 and raw:
        for _ in range(int(rng.integers(1, 5))):
            raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
    new = zlib.compress(bytes(raw), int(rng.integers(0, 10)))
    if choice == 4:
        new += rng.bytes(int(rng.integers(1, 16)))  # junk after the zlib stream
    elif choice == 5:
        new = new[: int(rng.integers(len(new)))]  # a cut stream
    pieces = int(rng.integers(1, 4))
    cuts = sorted(int(c) for c in rng.integers(0, len(new) + 1, pieces - 1))
    bodies = [new[i:j] for i, j in zip([0, *cuts], [*cuts, len(new)], strict=True)]
    return chunks[:first] + [(b"IDAT", body) for body in bodies] + chunks[first + count :]


def split_idat_run(chunks: Chunks, rng: np.random.Generator) -> Chunks:
    """Another chunk (an ancillary one, or IEND) in the middle of the image data."""
    found = _image_data(chunks)
    if found is None:
        return chunks
    first, count, stream = found
    cut = int(rng.integers(len(stream) + 1))
    between = [(b"tEXt", b"a\x00b"), (b"IEND", b""), (b"tIME", bytes(7))][int(rng.integers(3))]
    return [*chunks[:first], (b"IDAT", stream[:cut]), between, (b"IDAT", stream[cut:]), *chunks[first + count :]]


MUTATIONS: list[Callable[[Chunks, np.random.Generator], Chunks]] = [
    edit_ihdr,
    edit_ihdr,
    edit_body,
    resize_body,
    delete_chunk,
    duplicate_chunk,
    move_chunk,
    rename_chunk,
    insert_ancillary,
    restream,
    restream,
    split_idat_run,
]


def mutant(seed: bytes, rng: np.random.Generator) -> bytes:
    """``seed`` changed by one to three mutations, then sometimes bit-flipped or cut."""
    chunks = parse(seed)
    for _ in range(int(rng.integers(1, 4))):
        chunks = MUTATIONS[int(rng.integers(len(MUTATIONS)))](chunks, rng)
    data = serialise(chunks)
    if rng.random() < 0.15:
        flipped = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            flipped[int(rng.integers(len(flipped)))] ^= 1 << int(rng.integers(8))
        data = bytes(flipped)
    if rng.random() < 0.05:
        data = data[: int(rng.integers(len(data)))]
    return data


# --------------------------------------------------------------------------- the property


def check(data: bytes, reuse: bool) -> str:
    """Decode ``data``; the outcome must keep the decoder's promise. Returns "decoded" or "refused"."""
    try:
        header = png.read_header(data)
    except png.PngError:
        header = None
    try:
        values, info = png.decode(data, reuse=reuse)
    except png.PngError:
        return "refused"
    assert values.dtype == np.uint8 and values.shape == (info.height, info.width)
    assert header == info
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pillow_values(data)  # raises when Pillow refuses what decode returned
    assert expected.shape == values.shape
    np.testing.assert_array_equal(values, expected)
    return "decoded"


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_mutants_decode_to_pillows_values_or_are_refused(name):
    seed = SEEDS[name]
    check(seed, reuse=False)  # the seed itself decodes to Pillow's values
    rng = np.random.default_rng(sum(name.encode()))
    outcomes = {"decoded": 0, "refused": 0}
    for number in range(MUTANTS_PER_SEED):
        data = mutant(seed, rng)
        reuse = bool(number % 2) and libdeflate.available()
        try:
            outcomes[check(data, reuse)] += 1
        except Exception as failure:  # an assertion, or an exception other than PngError out of the decoder
            raise AssertionError(f"seed {name!r}, mutant {number}: {type(failure).__name__}: {failure}") from failure
    assert outcomes["decoded"] and outcomes["refused"], outcomes  # the mutations reach both sides
