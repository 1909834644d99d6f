"""``python -m mushra.analysis`` run in the test's own process: its exit code, stdout and stderr.

A subprocess costs a fresh interpreter and the imports of numpy, scipy, pandas and matplotlib
(6–10 s each on a busy machine); calling :func:`mushra.analysis.cli.main` gives the same exit
codes and output. The few tests that check the real process (exit status, a one-line stderr
without a traceback, ``--help``) spawn it themselves.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from typing import NamedTuple

from mushra.analysis.cli import main


class CliRun(NamedTuple):
    code: int
    out: str
    err: str


def run_cli(*argv: str) -> CliRun:
    """``main(argv)`` with stdout and stderr captured; argparse's exits (a bad flag, --help)
    become their exit code, as the process would report them."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")  # has .buffer, for a PDF
    stderr = io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # sys.exit semantics: None is 0, a message is 1
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        stdout.flush()
    out = stdout.buffer.getvalue().decode("utf-8", errors="replace")
    return CliRun(code, out, stderr.getvalue())
