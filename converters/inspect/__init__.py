"""See a dataset: statistics (:mod:`.stats`), their plots (:mod:`.plots`) and mask overlays (:mod:`.preview`).

Built on the public reading API and the intermediate form only, so it works on every
readable source and on every output vosconv wrote. :mod:`.api` holds ``converters.stats``
and ``converters.preview``; the modules doing the work are imported on first use, so
``import converters`` stays as quick as before.
"""
