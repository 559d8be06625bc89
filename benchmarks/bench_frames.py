"""Per-frame costs: vosconv's fast paths against the naive baseline, on one core.

Groups (each row is one synthetic frame of :func:`benchmarks.data.make_frames`):

* ``png-decode``: Pillow ``np.asarray(Image.open(...))`` vs ``converters.codecs.png.decode``, on the
  Pillow-written (filter 0) PNGs and on adaptively filtered ones; the inflate alone (libdeflate)
  is the floor.
* ``rle-encode``: ``np.unique`` + per-object pycocotools vs ``converters.codecs.rle.encode``.
* ``rle-decode``: per-object ``mask.decode`` + boolean writes vs ``converters.codecs.rle.decode``.
* ``png-encode``: Pillow vs ``converters.codecs.png.encode`` (the folder-layout writers' PNG writer), with bytes.
* ``frame-e2e``: an annotation PNG file to the JSON text of its RLE annotations, plus vosconv's stage costs.

:func:`verify` proves the two sides agree before anything is timed.
"""

from __future__ import annotations

import json
from pathlib import Path

import deflate
import numpy as np

from converters.codecs import png, rle

from . import naive
from .data import FrameCase, png_filter_types
from .timing import Settings, compare

GROUPS = ("png-decode", "rle-encode", "rle-decode", "png-encode", "frame-e2e")
PALETTE = png.DAVIS_PALETTE


def fast_frame_json(path: str) -> str:
    """vosconv's path for one file: read, ``png.decode``, ``rle.encode``, ``json.dumps``."""
    with open(path, "rb") as file:
        data = file.read()
    label, _ = png.decode(data)
    height, width = label.shape
    return json.dumps(
        [
            {
                "id": m.object_id,
                "segmentation": {"size": [height, width], "counts": m.counts},
                "area": m.area,
                "bbox": list(m.bbox),
            }
            for m in rle.encode(label)
        ]
    )


def _inflate(data: bytes) -> bytes:
    """The floor of any PNG decode: inflate the IDAT stream (chunk walk without CRC checks)."""
    pos, idat, expected = 8, [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IHDR":
            width = int.from_bytes(data[pos + 8 : pos + 12], "big")
            height = int.from_bytes(data[pos + 12 : pos + 16], "big")
            expected = height * (width + 1)
        elif kind == b"IDAT":
            idat.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return deflate.zlib_decompress(b"".join(idat), expected)


def write_frame_files(cases: list[FrameCase], folder: Path) -> dict[str, str]:
    """Each case's PNG as a file (for the file-to-JSON group): name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        path = folder / (case.name.replace("/", "_") + ".png")
        path.write_bytes(case.png)
        paths[case.name] = str(path)
    return paths


# --------------------------------------------------------------------------------------------
# Correctness guards


def verify(cases: list[FrameCase], folder: Path, groups: tuple[str, ...] = GROUPS) -> dict[str, int]:
    """Assert that fast and naive paths agree on every case; returns what was checked."""
    checked = dict.fromkeys(groups, 0)
    paths = write_frame_files(cases, folder) if "frame-e2e" in groups else {}
    for case in cases:
        height, width = case.label.shape
        if "png-decode" in groups:
            for variant, data in (("filter 0", case.png), ("adaptive", case.png_adaptive)):
                if data is None:
                    continue
                fast, info = png.decode(data)
                slow = naive.decode_png(data)
                assert (info.width, info.height, info.mode) == (width, height, "P"), f"{case.name} {variant}: header {info}"
                assert np.array_equal(fast, slow), f"{case.name} {variant}: png.decode differs from Pillow"
                assert np.array_equal(fast, case.label), f"{case.name} {variant}: decoded pixels differ from the source"
                checked["png-decode"] += 1
        if "rle-encode" in groups or "rle-decode" in groups:
            fast = rle.encode(case.label)
            slow = naive.encode(case.label)
            got = [(m.object_id, m.counts, m.area, list(m.bbox)) for m in fast]
            want = [(o["id"], o["counts"], o["area"], [int(v) for v in o["bbox"]]) for o in slow]
            assert got == want, f"{case.name}: rle.encode differs from pycocotools"
            assert all(float(v) == int(v) for o in slow for v in o["bbox"])
            checked["rle-encode" if "rle-encode" in groups else "rle-decode"] += 1
            if "rle-decode" in groups:
                pairs = [(m.object_id, m.counts) for m in fast]
                fast_label = rle.decode(pairs, height, width)
                slow_label = naive.decode(pairs, height, width)
                assert np.array_equal(slow_label, case.label), f"{case.name}: naive decode does not rebuild the label map"
                assert np.array_equal(fast_label, case.label), f"{case.name}: rle.decode does not rebuild the label map"
                checked["rle-decode"] += 1
        if "png-encode" in groups:
            for data in (png.encode(case.label, "P", PALETTE), naive.encode_png(case.label, PALETTE)):
                assert np.array_equal(naive.decode_png(data), case.label), f"{case.name}: PNG encode is not lossless"
                assert np.array_equal(png.decode(data)[0], case.label)
            checked["png-encode"] += 1
        if "frame-e2e" in groups:
            fast_text = fast_frame_json(paths[case.name])
            slow_text = naive.frame_json(paths[case.name])
            assert json.loads(fast_text) == json.loads(slow_text), f"{case.name}: frame JSON differs from the naive script's"
            checked["frame-e2e"] += 1
    return checked


# --------------------------------------------------------------------------------------------
# Timing


def _row(case: FrameCase, fast, slow, **extra) -> dict:
    return {
        "frame": case.name,
        "objects": case.objects,
        "vosconv_ms": fast.ms,
        "naive_ms": slow.ms,
        "ratio": slow.median / fast.median,
        "vosconv_min_ms": fast.minimum * 1e3,
        "naive_min_ms": slow.minimum * 1e3,
        **extra,
    }


def run(cases: list[FrameCase], folder: Path, settings: Settings, groups: tuple[str, ...] = GROUPS) -> dict:
    """Time every requested group on every case; returns ``{group: [row, ...]}``."""
    results: dict[str, list[dict]] = {g: [] for g in groups}
    paths = write_frame_files(cases, folder) if "frame-e2e" in groups else {}
    for case in cases:
        height, width = case.label.shape
        if "png-decode" in groups:
            for variant, data in (("0", case.png), ("adaptive", case.png_adaptive)):
                if data is None:
                    continue
                t = compare(
                    {
                        "naive": lambda d=data: naive.decode_png(d),
                        "vosconv": lambda d=data: png.decode(d),
                        "inflate": lambda d=data: _inflate(d),
                    },
                    settings,
                )
                filters = "0" if variant == "0" else "/".join(map(str, png_filter_types(data)))
                results["png-decode"].append(
                    _row(
                        case,
                        t["vosconv"],
                        t["naive"],
                        filters=filters,
                        adaptive=variant != "0",
                        png_bytes=len(data),
                        inflate_ms=t["inflate"].ms,
                    )
                )
        if "rle-encode" in groups:
            label = case.label
            t = compare({"naive": lambda x=label: naive.encode(x), "vosconv": lambda x=label: rle.encode(x)}, settings)
            results["rle-encode"].append(_row(case, t["vosconv"], t["naive"], runs=case.stats.get("runs")))
        if "rle-decode" in groups:
            pairs = [(m.object_id, m.counts) for m in rle.encode(case.label)]
            t = compare(
                {
                    "naive": lambda p=pairs, h=height, w=width: naive.decode(p, h, w),
                    "vosconv": lambda p=pairs, h=height, w=width: rle.decode(p, h, w),
                },
                settings,
            )
            results["rle-decode"].append(_row(case, t["vosconv"], t["naive"]))
        if "png-encode" in groups:
            label = case.label
            t = compare(
                {"naive": lambda x=label: naive.encode_png(x, PALETTE), "vosconv": lambda x=label: png.encode(x, "P", PALETTE)},
                settings,
            )
            results["png-encode"].append(
                _row(
                    case,
                    t["vosconv"],
                    t["naive"],
                    naive_bytes=len(naive.encode_png(label, PALETTE)),
                    vosconv_bytes=len(png.encode(label, "P", PALETTE)),
                )
            )
        if "frame-e2e" in groups:
            path = paths[case.name]
            data = case.png
            decoded, _ = png.decode(data)
            masks = rle.encode(decoded)
            records = [
                {
                    "id": m.object_id,
                    "segmentation": {"size": [height, width], "counts": m.counts},
                    "area": m.area,
                    "bbox": list(m.bbox),
                }
                for m in masks
            ]

            def read(p=path):
                with open(p, "rb") as file:
                    return file.read()

            t = compare(
                {
                    "naive": lambda p=path: naive.frame_json(p),
                    "vosconv": lambda p=path: fast_frame_json(p),
                    "read": read,
                    "png.decode": lambda d=data: png.decode(d),
                    "rle.encode": lambda x=decoded: rle.encode(x),
                    "json.dumps": lambda r=records: json.dumps(r),
                },
                settings,
            )
            results["frame-e2e"].append(
                _row(
                    case,
                    t["vosconv"],
                    t["naive"],
                    json_bytes=len(fast_frame_json(path)),
                    stages_ms={k: t[k].ms for k in ("read", "png.decode", "rle.encode", "json.dumps")},
                )
            )
    return results
