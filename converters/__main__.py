"""``python -m converters`` is the ``vosconv`` command."""

import sys

from .cli import main

sys.exit(main())
