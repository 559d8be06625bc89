"""Hand-made RLE strings for the decoder's hostile-input tests (shared by the RLE and bad-input suites)."""

from __future__ import annotations


def overflowing_string(counts: list[int]) -> str:
    """Counts as a compressed string of 13 digits each, as a hostile file could hold them.

    Each count is stored as its difference from the count two before (rleToString's rule), wrapped
    to int64 the way the decoder adds it back, so any int64 counts can be written.
    """

    def wrap(x: int) -> int:
        x &= (1 << 64) - 1
        return x - (1 << 64) if x >> 63 else x

    out = []
    for j, count in enumerate(counts):
        bits = wrap(count - counts[j - 2] if j > 2 else count) & ((1 << 64) - 1)
        digits = [(bits >> (5 * k)) & 0x1F for k in range(13)]
        digits[12] &= 0x0F  # the last digit's sign bit stays clear: no sign extension
        out += [chr(48 + (d | (0x20 if k < 12 else 0))) for k, d in enumerate(digits)]
    return "".join(out)
