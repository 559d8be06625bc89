"""Small SA-V fixtures with the real traits: mp4s made with PyAV/libx264 at widths that are not a
multiple of 16, masklet JSONs whose numbers are floats, objects from id 0, overlapping masks,
empty RLEs for invisible objects, an auto file with stability scores (1.0 where invisible)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_api

WIDTH, HEIGHT = 66, 48  # not a multiple of 16: libx264 needs mbtree=0 to be deterministic there


def frame_pixels(index: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    image = np.stack([(x * 4 + index * 7) % 256, (y * 5 + index * 3) % 256, ((x + y) * 3) % 256], -1).astype(np.uint8)
    image[10:20, 10 + index : 30 + index] = [250, 30, 40]
    return image


def noise_pixels(index: int, width: int, height: int) -> np.ndarray:
    """One still picture of noise with a box moving over it: quick to encode (the frames after the first cost
    little), and each frame's JPEG is large, so a writer holding many of them shows."""
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), np.uint8)
    image[8:24, index % (width - 16) : index % (width - 16) + 16] = [250, 30, 40]
    return image


#: x264 settings that put B-frames everywhere: 3 between each P-frame, the middle one a reference (b-pyramid), the
#: other two referred to by nothing, which sparse decoding skips.
B_PYRAMID = "bframes=3:b-pyramid=normal:b-adapt=0"


def make_mp4(
    path: Path,
    frames: int,
    width: int = WIDTH,
    height: int = HEIGHT,
    *,
    bt709: bool = False,
    pixels=frame_pixels,
    x264: str = "",
) -> Path:
    """An H.264 mp4 as libx264's defaults make it (B-frames where it sees fit, b-pyramid); ``x264`` adds settings."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"x264-params": ":".join(filter(None, ["mbtree=0", x264])), "crf": "20", "threads": "1"}
        if bt709:
            context = stream.codec_context
            context.colorspace, context.color_primaries, context.color_trc = 1, 1, 1
        for index in range(frames):
            frame = av.VideoFrame.from_ndarray(pixels(index, width, height), format="rgb24")
            if bt709:
                frame = frame.reformat(format="yuv420p", dst_colorspace=1)
                frame.colorspace = 1
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def cut_short(path: Path, packets: int) -> Path:
    """The mp4 rewritten with its header first (``faststart``) and cut after its first ``packets`` packets: the header
    still counts every frame, the file holds only the first few (a download that stopped early)."""
    import av

    whole = path.with_suffix(".whole.mp4")
    path.rename(whole)
    with av.open(str(whole)) as source, av.open(str(path), "w", options={"movflags": "faststart"}) as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                target.mux(packet)
    whole.unlink()
    with av.open(str(path)) as container:
        offsets = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
    path.write_bytes(path.read_bytes()[: offsets[packets]])
    return path


def box(k: int, j: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Object j on annotated frame k: boxes that overlap (object 1 inside object 0), object 2 absent on odd frames."""
    mask = np.zeros((height, width), np.uint8)
    if j == 0:
        mask[5 : 30 + k, 5:40] = 1
    elif j == 1:
        mask[10:20, 10 + k : 25 + k] = 1
    elif j == 2 and k % 2 == 0:
        mask[35:45, 40:60] = 1
    return mask


def rle_of(mask: np.ndarray) -> dict:
    encoded = mask_api.encode(np.asfortranarray(mask))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode("ascii")}


def masklet_doc(video: str, frames: int, objects: int = 3, *, kind: str = "manual", width: int = WIDTH, height: int = HEIGHT):
    annotated = math.ceil(frames / 4)
    masklet = [[rle_of(box(k, j, width, height)) for j in range(objects)] for k in range(annotated)]
    doc = {
        "video_id": video,
        "video_duration": frames / 24,
        "video_frame_count": float(frames),
        "video_height": float(height),
        "video_width": float(width),
        "video_resolution": float(width * height),
        "video_environment": "Indoor",
        "video_split": "train",
        "masklet": masklet,
        "masklet_id": list(range(objects)),
        "masklet_size_rel": [0.01 * (j + 1) for j in range(objects)],
        "masklet_size_abs": [12.5 * (j + 1) for j in range(objects)],
        "masklet_size_bucket": ["small"] * objects,
        "masklet_visibility_changes": [0, 0, annotated - 1][:objects],
        "masklet_first_appeared_frame": [0.0] * objects if kind == "manual" else [0] * objects,
        "masklet_frame_count": [annotated] * objects,
        "masklet_edited_frame_count": [1] * objects if kind == "manual" else [0] * objects,
        "masklet_type": [kind] * objects,
        "masklet_stability_score": [None] * objects
        if kind == "manual"
        else [[1.0 if not box(k, j, width, height).any() else 0.5 + 0.01 * k for j in range(objects)] for k in range(annotated)],
        "masklet_num": objects,
    }
    return doc


def make_train(
    root: Path,
    videos: dict[str, int],
    *,
    shard: str | None = "sav_000",
    auto: bool = True,
    width: int = WIDTH,
    height: int = HEIGHT,
    pixels=frame_pixels,
) -> Path:
    """A train folder: ``<shard>/<video>.mp4`` with its manual (and auto) JSON."""
    folder = root / shard if shard else root
    folder.mkdir(parents=True, exist_ok=True)
    for name, frames in videos.items():
        make_mp4(folder / f"{name}.mp4", frames, width, height, pixels=pixels)
        (folder / f"{name}_manual.json").write_text(json.dumps(masklet_doc(name, frames, width=width, height=height)))
        if auto:
            auto_doc = masklet_doc(name, frames, 2, kind="auto", width=width, height=height)
            (folder / f"{name}_auto.json").write_text(json.dumps(auto_doc))
    return root


def make_resizing_mp4(path: Path, frames: int, switch_at: int, size: tuple[int, int]) -> Path:
    """An MJPEG mp4 whose header (and first ``switch_at`` frames) say WIDTH x HEIGHT and whose later frames are ``size``:
    a stream that changes size mid-way, as spliced files and H.264 with a second SPS do."""
    from fractions import Fraction

    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mjpeg", rate=24)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuvj420p"
        encoders = []
        for width, height in ((WIDTH, HEIGHT), size):
            encoder = av.CodecContext.create("mjpeg", "w")
            encoder.width, encoder.height, encoder.pix_fmt, encoder.time_base = width, height, "yuvj420p", Fraction(1, 24)
            encoders.append(encoder)
        for index in range(frames):
            encoder = encoders[index >= switch_at]
            frame = av.VideoFrame.from_ndarray(frame_pixels(index, encoder.width, encoder.height), format="rgb24")
            frame = frame.reformat(format="yuvj420p")
            frame.pts = index
            for packet in encoder.encode(frame):
                packet.stream, packet.pts, packet.dts = stream, index, index
                container.mux(packet)
    return path
