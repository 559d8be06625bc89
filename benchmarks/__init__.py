"""vosconv's benchmark suite: ``make bench`` (``python -m benchmarks``), not part of the test suite.

Every group generates its data deterministically (:mod:`benchmarks.data`), checks that the
fast path and the naive baseline (:mod:`benchmarks.naive`) give identical results, and only
then times both in the same run, interleaved, as median CPU time (:mod:`benchmarks.timing`).

Groups: ``frames`` (per-frame PNG decode, RLE encode and decode, PNG encode, file to RLE JSON),
``convert`` (whole MOSE-layout datasets to COCO JSON, 1 and 2 workers, output sizes),
``memory`` (peak RSS of 200- vs 2,000-frame conversions) and, when the module exists,
``loading`` (random clip reads).
"""
