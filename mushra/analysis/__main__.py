"""Entry point of ``python -m mushra.analysis``; see :mod:`mushra.analysis.cli`."""

import sys

from mushra.analysis.cli import main

sys.exit(main())
