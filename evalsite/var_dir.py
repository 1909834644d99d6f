"""The var/ folder, where everything the platform writes at run time lives, and what makes it.

The settings only read (issue 17): they name the folders they need (``settings.VAR_FOLDERS``) and
read the local secret key if there is one. ``prepare_var_dir()`` makes both before anything else
starts: the launcher (``make demo``, every container, web and worker alike) and ``manage.py`` call
it first, and so does the test suite's conftest. Each step is idempotent.
"""

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE_NAME = "secret_key"


def var_dir() -> Path:
    """EVALSITE_VAR_DIR, else var/ beside manage.py: tests and the demo can each have their own,
    and deleting the folder is a full reset."""
    return Path(os.environ.get("EVALSITE_VAR_DIR", "").strip() or BASE_DIR / "var").resolve()


def prepare_var_dir() -> Path:
    """Make var/, the local secret key (unless SECRET_KEY is set) and the settings' folders."""
    folder = var_dir()
    folder.mkdir(parents=True, exist_ok=True)
    if not os.environ.get("SECRET_KEY", "").strip():
        make_secret_key(folder / SECRET_KEY_FILE_NAME)
    # Now the settings may load (they raise without a key): they say which folders they use.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
    from django.conf import settings

    for path in settings.VAR_FOLDERS:
        Path(path).mkdir(parents=True, exist_ok=True)
    return folder


def make_secret_key(path: Path) -> None:
    """A random key made once per var/ folder, so that sessions survive a restart; readable by
    its owner only. Written aside and linked into place, so that of two processes starting at
    once one makes it and neither ever reads a half-written key."""
    if path.exists():
        return
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(50))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # the other process won; its key is the one
    finally:
        draft.unlink()
