"""Running a conversion: planning shards, executors, the journal behind --resume, locking, publishing, validate.

This layer knows the reader and writer contracts (:mod:`converters.reader`, :mod:`converters.writer`), never a
concrete format: whether an existing output is vosconv's to replace is asked of the writers (:meth:`Writer.owns`).

* :mod:`.pipeline`: ``convert`` and ``scan``, start to finish (``Summary``, ``Interrupted``)
* :mod:`.plan`: the source's roots and linked folders checked against the output, the work order
* :mod:`.tasks`: what a worker runs (read a shard's videos, write them, count them)
* :mod:`.executors`: local processes or Ray; :mod:`.progress`: the bar
* :mod:`.publish`: what ``--overwrite`` may replace, the staging folder, the one rename into place
* :mod:`.resume` and :mod:`.journal`: the finished shards an interrupted run hands on
* :mod:`.locking`: one run per output; :mod:`.stats`: the counts; :mod:`.validate`: checking a source
"""
