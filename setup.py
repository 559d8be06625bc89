"""The compiled kernels; everything else about the package is in pyproject.toml.

converters/codecs/_kernels.c is built twice: ``converters.codecs._kernels``, which vosconv uses, and
``converters.codecs._kernels_checked``, the same code checking every array index (an IndexError
instead of memory corruption), which ``VOSCONV_BOUNDSCHECK=1`` selects for the tests.
"""

import sys

from setuptools import Extension, setup

OPTIMISE = ["/O2"] if sys.platform == "win32" else ["-O3"]


def kernels(name: str) -> Extension:
    return Extension(
        f"converters.codecs.{name}",
        [f"converters/codecs/{name}.c"],
        depends=["converters/codecs/_kernels.c"],
        extra_compile_args=OPTIMISE,
    )


setup(ext_modules=[kernels("_kernels"), kernels("_kernels_checked")])
