"""Compile the interface's gettext catalogues: locale/<lang>/LC_MESSAGES/*.po → .mo.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh clone's machine or a slim
image may lack; polib is pure Python, so the build works anywhere Python does. Like msgfmt, it
leaves out fuzzy and untranslated entries (they fall back to English). No Django import: the
Makefile runs ``python -m evalsite.catalogues FILE.po ...`` per stale file; ``manage.py
compile_catalogues`` does the whole locale folder.
"""

import os
import sys
import tempfile
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def compile_catalogue(po_path: Path) -> Path:
    """Write `po_path`'s .mo beside it, atomically (a reader never sees half a file)."""
    mo_path = po_path.with_suffix(".mo")
    fd, tmp = tempfile.mkstemp(dir=mo_path.parent, prefix=".", suffix=".mo")
    os.close(fd)
    try:
        polib.pofile(str(po_path)).save_as_mofile(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the web server may be another user
        os.replace(tmp, mo_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return mo_path


def stale_catalogues(locale: Path = LOCALE) -> list[Path]:
    """The .po files whose .mo is missing or older than them."""
    stale = []
    for po_path in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
            stale.append(po_path)
    return stale


def compile_catalogues(locale: Path = LOCALE, force: bool = False) -> list[Path]:
    """Compile every catalogue under `locale` (only the stale ones unless `force`)."""
    todo = sorted(locale.glob("*/LC_MESSAGES/*.po")) if force else stale_catalogues(locale)
    return [compile_catalogue(po_path) for po_path in todo]


if __name__ == "__main__":
    paths = [Path(arg) for arg in sys.argv[1:]]
    for mo_path in [compile_catalogue(p) for p in paths] if paths else compile_catalogues():
        print(f"compiled {mo_path}")
