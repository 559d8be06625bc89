"""Running a conversion: planning shards, executors, the journal behind --resume, locking, publishing, validate.

This layer knows the reader and writer contracts (:mod:`converters.reader`, :mod:`converters.writer`), never a
concrete format.
"""
