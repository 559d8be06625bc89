"""Reading a dataset from its archive instead of the extracted folder: index size, extra decompression, time, memory.

``python -m benchmarks.bench_archives [--copies 4] [--workdir DIR]`` builds a MOSE ``train/``
split of ``copies`` times the 1080p-200 benchmark dataset (about 75 MiB of JPEGs per copy),
packs it as ``train.tar``, ``train.tar.gz`` (gzip -6, as the published MOSE archives) and
``train.zip`` (deflate), and for the folder and each archive, in a fresh process each:

* ``index``: the time to build the member table (and the gzip index), and its size on disk;
* ``coco`` (1 worker): reads every JPEG's header and tail and every mask;
* ``parquet`` (1 and 2 workers): also copies every JPEG's bytes (twice the reading);

reporting wall and CPU time, peak RSS of the parent and of the workers, and for a .tar.gz the
bytes decompressed over the uncompressed tar size. The bundled sample packed as a .tar.gz
gives the small-archive memory floor. Outputs are compared: same bytes as from the folder.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from .data import DatasetSpec, cached_dataset, replicate

REPO = Path(__file__).resolve().parents[1]
SPEC = DatasetSpec("1080p-200", 1080, 1920, videos=8, frames=25, objects=(3, 4, 5, 6, 8, 3, 5, 8))

DRIVER = r"""
import json, os, resource, sys, time
import converters
from converters.sources import archives
from converters.sources import files as sources
source, output, writer, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
started, cpu = time.perf_counter(), time.process_time()
result = {}
if writer == "index":
    fs = sources.filesystem(source)
    catalog = fs._catalog()
    result["members"] = catalog.table.members
    result["index_bytes"] = {n: os.path.getsize(os.path.join(catalog.index_dir, n)) for n in os.listdir(catalog.index_dir)}
    if catalog.blocks is not None:
        result["seek_points"] = len(catalog.blocks.points)
        result["tar_bytes"] = catalog.blocks.size
    fs.close()
else:
    decompressed = []  # bytes this process decompressed, counted as the reader's close releases the catalog
    release = archives._Catalog.release
    def counting(catalog):
        if catalog.blocks is not None:
            decompressed.append(catalog.blocks.decompressed)
        release(catalog)
    archives._Catalog.release = counting
    converters.convert(source, output, to=writer, from_="mose", reader_options={"split": "train"},
                       workers=workers, overwrite=True, progress=False)
    result["decompressed"] = sum(decompressed)
result["wall_s"] = time.perf_counter() - started
result["cpu_s"] = time.process_time() - cpu
result["parent_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from converters.run.executors import wait_for_workers
wait_for_workers()  # workers exit just after convert returns
result["workers_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
result["temporary_left"] = sorted(p for p in os.listdir(os.environ.get("TMPDIR", "/tmp")) if p.startswith("vosconv-archive-"))
print(json.dumps(result))
"""


def measure(source: Path, output: Path, writer: str, workers: int = 1) -> dict:
    """One run in a fresh interpreter (nothing earlier counts towards its peak memory)."""
    args = [sys.executable, "-c", DRIVER, str(source), str(output), writer, str(workers)]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"driver failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def pack(folder: Path, target: Path, kind: str) -> Path:
    """``folder``'s tree under ``train/`` in an archive; every file stored whole (hard links are copied, not linked)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "done.json")
    if kind == "zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in files:
                archive.write(path, f"train/{path.relative_to(folder).as_posix()}")
        return target
    mode = "w:gz" if kind == "tgz" else "w"
    options = {"compresslevel": 6} if kind == "tgz" else {}
    with tarfile.open(target, mode, **options) as archive:
        for path in files:
            info = archive.gettarinfo(path, f"train/{path.relative_to(folder).as_posix()}")
            info.type, info.linkname = tarfile.REGTYPE, ""  # a plain member, even for a hard link
            info.size = path.stat().st_size
            with open(path, "rb") as file:
                archive.addfile(info, file)
    return target


def gunzip_seconds(path: Path) -> float:
    """CPU seconds of one plain decompression of the whole file (what ``gzip -dc > /dev/null`` costs)."""
    import zlib

    started = time.process_time()
    inflate = zlib.decompressobj(31)
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            inflate.decompress(chunk)
    return time.process_time() - started


def same_bytes(a: Path, b: Path, folder: Path, archive: Path) -> bool:
    """The same output from the folder (``a``) and the archive (``b``): byte for byte, but for the recorded image root."""

    def read(path: Path, root: Path) -> bytes:
        return path.read_bytes().replace(str(root).encode(), b"<root>")

    if a.is_file():
        return read(a, folder) == read(b, archive)
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    return names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file()) and all(
        read(a / n, folder.resolve()) == read(b / n, archive.resolve()) for n in names
    )


def run(workdir: Path, copies: int, cache: Path) -> dict:
    small = cached_dataset(cache, SPEC)
    root = workdir / "folder"
    shutil.rmtree(root, ignore_errors=True)
    replicate(small, root / "train", copies)
    archives = {
        kind: pack(root / "train", workdir / f"train.{ext}", kind)
        for kind, ext in (("tar", "tar"), ("tgz", "tar.gz"), ("zip", "zip"))
    }
    from converters.sample import write_sample

    shutil.rmtree(workdir / "sample", ignore_errors=True)
    sample = write_sample(workdir / "sample", "mose")
    tiny = workdir / "tiny.tar.gz"
    with tarfile.open(tiny, "w:gz") as archive:
        archive.add(sample / "train", "train")

    rows = {"sizes": {k: p.stat().st_size for k, p in archives.items()}, "gunzip_cpu_s": gunzip_seconds(archives["tgz"])}
    sources = {"folder": root, **archives, "tiny-tgz": tiny}
    for name, source in sources.items():
        row = {}
        if name != "folder":
            row["index"] = measure(source, workdir / "unused", "index")
        row["coco"] = measure(source, workdir / f"{name}.json", "coco")
        if name != "tiny-tgz":
            for workers in (1, 2):
                row[f"parquet-{workers}"] = measure(source, workdir / f"{name}-pq{workers}", "parquet", workers)
        rows[name] = row
        print(name, json.dumps(row), flush=True)
    rows["identical"] = {
        name: same_bytes(workdir / "folder.json", workdir / f"{name}.json", root, archive)
        and all(same_bytes(workdir / f"folder-pq{w}", workdir / f"{name}-pq{w}", root, archive) for w in (1, 2))
        for name, archive in archives.items()
    }
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_archives", description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=4, help="copies of the 200-frame 1080p dataset (75 MiB of JPEGs each)")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument("--data", type=Path, default=REPO / "benchmarks" / "results" / "data", help="cache of generated datasets")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="vosconv-bench-archives-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        results = run(workdir, args.copies, args.data)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    text = json.dumps(results, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
