"""Start-up: what a ``vosconv`` command costs before and around its work, against importing numpy.

``python -m benchmarks --only startup``. Each command runs as a fresh process (the way a user
runs it), in interleaved rounds with the control ``python -c "import numpy"``, so the ratios
compare runs made under the same machine conditions:

* ``vosconv --help`` and ``vosconv formats`` (goal: at most 1.5x the control): they read the
  registry's plain table and import no format;
* a whole conversion of a 4-frame video to COCO (goal: at most 3x the control);
* for scale, ``python -c pass``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOALS = {"--help": 1.5, "formats": 1.5, "convert 4 frames": 3.0}


def four_frame_source(workdir: Path) -> Path:
    """A MOSE split holding one video of the sample's first 4 frames: its JPEGs and palette PNGs."""
    from converters.sample import write_sample

    sample = workdir / "sample"
    write_sample(sample, "mose")
    train = sample / "train"
    video = sorted(p.name for p in (train / "JPEGImages").iterdir() if not p.name.startswith("."))[0]
    root = workdir / "four"
    for kind in ("JPEGImages", "Annotations"):
        files = sorted(p for p in (train / kind / video).iterdir() if not p.name.startswith("."))[:4]
        (root / "train" / kind / video).mkdir(parents=True)
        for file in files:
            shutil.copy(file, root / "train" / kind / video / file.name)
    return root


def commands(workdir: Path) -> dict[str, list[str]]:
    vosconv = [sys.executable, "-m", "converters"]
    source = four_frame_source(workdir)
    output = workdir / "four.json"
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import numpy": [sys.executable, "-c", "import numpy"],
        "--help": [*vosconv, "--help"],
        "formats": [*vosconv, "formats"],
        "convert 4 frames": [*vosconv, "convert", str(source), "-o", str(output), "--split", "train", "--overwrite"],
    }


def run(workdir: Path, quick: bool = False) -> dict:
    rounds = 3 if quick else 15
    argv = commands(Path(workdir))
    times: dict[str, list[float]] = {name: [] for name in argv}
    for _ in range(rounds + 1):  # the first round warms the page cache and is dropped
        for name, command in argv.items():
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"{name} failed: {done.stderr.strip()[-500:]}")
            times[name].append(elapsed)
    medians = {name: statistics.median(values[1:]) for name, values in times.items()}
    control = medians["import numpy"]
    rows = [[name, f"{seconds * 1e3:.0f}", f"{seconds / control:.2f}x"] for name, seconds in medians.items()]
    goals = [
        {
            "goal": f'start-up: `vosconv {name}` vs `python -c "import numpy"` (fresh processes, same rounds)',
            "target": f"<= {limit}x",
            "value": medians[name] / control,
            "pass": medians[name] / control <= limit,
            "note": f"{medians[name] * 1e3:.0f} ms vs {control * 1e3:.0f} ms, medians of {rounds} rounds",
        }
        for name, limit in GOALS.items()
    ]
    return {
        "medians_s": medians,
        "tables": [
            {
                "title": f"start-up, fresh processes (median of {rounds} interleaved rounds)",
                "headers": ["command", "ms", "vs import numpy"],
                "rows": rows,
            }
        ],
        "goals": goals,
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vosconv-bench-startup-") as folder:
        result = run(Path(folder), quick="--quick" in sys.argv)
    for table in result["tables"]:
        print(table["title"], *[" | ".join(map(str, r)) for r in [table["headers"], *table["rows"]]], sep="\n")
    for goal in result["goals"]:
        print(goal)
