"""Fixtures shared by the whole suite: generated datasets (one per session) and the real samples."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from converters.sample import write_sample

REPO = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO.parent / "shared" / "samples"

# Hypothesis fails an example slower than 200 ms by default: a timing assertion, which a loaded 2-core machine trips.
settings.register_profile("vosconv", deadline=None)
settings.load_profile("vosconv")


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> dict[str, Path]:
    """The bundled synthetic dataset of each layout, generated once per test session. Do not modify."""
    base = tmp_path_factory.mktemp("samples")
    return {layout: write_sample(base / layout, layout) for layout in ("mose", "davis", "youtube-vos")}


#: The shard outputs the loader reads: format -> (writer, writer options).
SHARD_FORMATS = {"parquet": ("parquet", {}), "hdf5": ("hdf5", {}), "hdf5-dense": ("hdf5", {"masks": "dense"})}


@pytest.fixture(scope="session")
def mose_shards(sample_root, tmp_path_factory) -> dict[str, Path]:
    """format -> the MOSE sample's train split converted to it (each of :data:`SHARD_FORMATS`), once per test session.
    Do not modify: copy an output to damage it."""
    from converters import api

    base = tmp_path_factory.mktemp("mose-shards")
    outputs = {}
    for fmt, (writer, options) in SHARD_FORMATS.items():
        outputs[fmt] = base / fmt
        api.convert(
            sample_root["mose"], outputs[fmt], to=writer, from_="mose", reader_options={"split": "train"}, writer_options=options
        )
    return outputs


@pytest.fixture
def sample_copy(sample_root, tmp_path):
    """A private, writable copy of a layout's sample (for tests that break or change files)."""

    def copy(layout: str) -> Path:
        target = tmp_path / f"copy-{layout}"
        shutil.copytree(sample_root[layout], target)
        return target

    return copy


@pytest.fixture(scope="session")
def shared_samples() -> Path:
    """The real annotation files in ../shared/samples; the test is skipped when they are absent."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"{SHARED_SAMPLES} is not available")
    return SHARED_SAMPLES


@pytest.fixture
def shard_writes(monkeypatch):
    """``shard_writes(writer_class, interrupt_at=None)``: count the class's ``write_shard`` calls (the list returned),
    call number ``interrupt_at`` being a Ctrl-C, as a run stopped between shards; ``monkeypatch.undo()`` ends it."""

    def patch(cls, interrupt_at: int | None = None) -> list[int]:
        original, calls = cls.write_shard, []

        def counted(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == interrupt_at:
                raise KeyboardInterrupt
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "write_shard", counted)
        return calls

    return patch
