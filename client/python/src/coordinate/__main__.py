"""``python -m coordinate`` is the ``coordinate`` command."""

import sys

from .cli import main

sys.exit(main())
