"""The reader-side suite run on a built-in reader, so that it is itself tested (and shows how a reader uses it)."""

from __future__ import annotations

import pytest

from converters.testing.suite import ReaderSuite


class TestYoutubeVosThroughEveryFormat(ReaderSuite):
    reader = "youtube-vos"

    @pytest.fixture(scope="class")
    @classmethod
    def reader_source(cls, sample_root):
        return sample_root["youtube-vos"] / "train", {}
