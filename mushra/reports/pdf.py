"""PDF from the HTML report, with WeasyPrint (no browser needed on a worker or a laptop).

WeasyPrint needs Pango at import time; a missing library must be one clear line telling the
user what to install (the CLI turns AnalysisError into exit code 2), not a ctypes traceback.
"""

from __future__ import annotations

import logging

from mushra.analysis.data import AnalysisError

INSTALL_HINT = (
    "PDF output needs WeasyPrint and Pango: pip install 'weasyprint>=62' and install "
    "libpango-1.0-0 and libpangoft2-1.0-0 (Debian/Ubuntu), or leave out the pdf format"
)


def render_pdf(html: str) -> bytes:
    """The PDF bytes of a self-contained HTML document (no base URL: nothing is fetched)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: cannot load the Pango shared library
        raise AnalysisError(f"{INSTALL_HINT} ({type(exc).__name__}: {exc})") from exc
    # WeasyPrint logs every CSS property it ignores; those are not the user's concern.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html).write_pdf()
