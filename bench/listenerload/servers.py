"""The servers under load: ours (gunicorn as the platform starts it) and pymushra (gunicorn too).

Every server binds 127.0.0.1 only, runs in its own process group (so stopping it takes its
workers too) and logs to a file in the benchmark's folder.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"
# Flags of our gunicorn command that say how it serves; pymushra gets the same ones.
SERVING_FLAGS = {"--workers", "-w", "--threads", "--worker-class", "-k", "--backlog"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def our_command(port: int) -> list[str]:
    """The platform's own web command (evalsite.launcher.web_command), bound to loopback, without
    the access log (as behind a proxy that logs; pymushra runs without one too)."""
    from evalsite.launcher import parse_args, web_command

    argv = ["web", "--host", HOST, "--port", str(port), "--no-access-log"]
    return web_command(parse_args(argv))


def serving_flags(command: list[str]) -> list[str]:
    """The worker/thread flags of a gunicorn command line, in both `--x N` and `--x=N` forms."""
    flags, args = [], iter(command)
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in SERVING_FLAGS:
            flags += [arg] if "=" in arg else [arg, next(args)]
    return flags


def pymushra_command(port: int, app: str, flags: list[str], pythonpath: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        app,
        "--pythonpath",
        str(pythonpath),
        "--bind",
        f"{HOST}:{port}",
        *flags,
    ]


class Server:
    """A server process group, up once `ready_path` answers 200; stopped on exit."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, env: dict, log: Path, port: int):
        self.name, self.argv, self.cwd, self.env, self.log = name, argv, cwd, env, log
        self.base = f"http://{HOST}:{port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, ready_path: str, timeout: float = 90.0) -> "Server":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log}")
            if self._answers(ready_path):
                return self
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout:.0f} s; see {self.log}")

    def _answers(self, path: str) -> bool:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as resp:
                return resp.status == 200
        except (OSError, urllib.error.HTTPError):
            return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None
