"""The compiled kernels of :mod:`converters.codecs.rle` and :mod:`converters.codecs.png` (``converters/codecs/_kernels.c``).

Two builds of the same C source ship with the package: ``_kernels``, and ``_kernels_checked``, which
checks every array index and raises IndexError instead of corrupting memory. ``VOSCONV_BOUNDSCHECK=1``
in the environment selects the checked one; ``make test`` runs the kernel tests a second time so.
"""

from __future__ import annotations

import os

BOUNDSCHECK_VARIABLE = "VOSCONV_BOUNDSCHECK"

try:
    if os.environ.get(BOUNDSCHECK_VARIABLE, "0") not in ("", "0"):
        from . import _kernels_checked as kernels
    else:
        from . import _kernels as kernels
except ImportError as error:  # a source checkout whose extension was never built
    raise ImportError(
        "vosconv's compiled kernels are not built: `pip install -e .` (or `python setup.py build_ext --inplace`) builds them"
    ) from error

__all__ = ["kernels"]
