"""converters.codecs.scratch: per-thread reusable buffers that a forked worker does not share."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

from converters.codecs import scratch


def test_shape_dtype_and_reuse():
    first = scratch.array("test.a", (3, 5), np.int32)
    assert first.shape == (3, 5) and first.dtype == np.int32 and first.flags.c_contiguous
    again = scratch.array("test.a", (2, 2), np.uint8)
    assert np.shares_memory(first, again)  # same buffer, viewed anew
    assert not np.shares_memory(first, scratch.array("test.b", (3, 5), np.int32))


def test_a_repeated_request_reuses_its_view():
    first = scratch.array("test.repeat", (4, 6), np.uint8)
    assert scratch.array("test.repeat", (4, 6), np.uint8) is first
    other = scratch.array("test.repeat", (6, 4), np.uint8)
    assert other.shape == (6, 4) and np.shares_memory(first, other)
    wide = scratch.array("test.repeat", (4, 6), np.int32)
    assert wide.dtype == np.int32 and wide.shape == (4, 6)
    assert scratch.array("test.repeat", (4, 6), np.uint8).shape == (4, 6)


def test_a_larger_request_gets_a_larger_buffer():
    small = scratch.array("test.grow", (10,), np.uint8)
    big = scratch.array("test.grow", (3 << 20,), np.uint8)
    big[:] = 1
    assert big.size == 3 << 20 and not np.shares_memory(small, big)
    assert big.ctypes.data % (2 << 20) == 0  # starts on a huge-page boundary


def test_threads_get_their_own_buffers():
    here = scratch.array("test.thread", (64,), np.uint8)
    there = []
    worker = threading.Thread(target=lambda: there.append(scratch.array("test.thread", (64,), np.uint8)))
    worker.start()
    worker.join()
    assert not np.shares_memory(here, there[0])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_writes_into_the_parents_buffer():
    buffer = scratch.array("test.fork", (1080, 1920), np.uint8)
    buffer[:] = 7
    pid = os.fork()
    if pid == 0:  # Linux wipes the buffer for the child (MADV_WIPEONFORK); elsewhere it is a private copy
        child = scratch.array("test.fork", (1080, 1920), np.uint8)
        wiped = not child.any()
        child[:] = 9
        os._exit(0 if wiped or sys.platform != "linux" else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child saw the parent's data: the buffer was not wiped on fork"
    assert (buffer == 7).all()
