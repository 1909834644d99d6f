"""The launcher: the web command it builds (processes and threads from the machine, the access log
switchable: a proxy in front logs requests; gunicorn's log costs the web processes time), and what
it does before anything starts (the var/ folder, the local secret key, the variables checked)."""

import socket
import subprocess
import sys

import pytest

from evalsite.launcher import parse_args, web_command, web_workers_for_cores
from tests.support.paths import ROOT
from tests.support.services import embedded_env


def _flag(command: list[str], name: str) -> str | None:
    return command[command.index(name) + 1] if name in command else None


def test_the_web_command_takes_its_processes_threads_and_log_from_the_environment(monkeypatch):
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    monkeypatch.delenv("WEB_THREADS", raising=False)
    monkeypatch.delenv("WEB_ACCESS_LOG", raising=False)
    default = web_command(parse_args(["web"]))
    assert _flag(default, "--workers") == str(web_workers_for_cores())
    assert _flag(default, "--threads") == "8" and _flag(default, "--access-logfile") == "-"
    monkeypatch.setenv("WEB_WORKERS", "3")
    monkeypatch.setenv("WEB_THREADS", "4")
    monkeypatch.setenv("WEB_ACCESS_LOG", "0")
    quiet = web_command(parse_args(["web"]))
    assert _flag(quiet, "--workers") == "3" and _flag(quiet, "--threads") == "4"
    assert "--access-logfile" not in quiet
    assert "--access-logfile" in web_command(parse_args(["web", "--access-log"]))


def fresh_machine(var) -> dict:
    """No service variables, no key, outside pytest (whose runs get a key of their own)."""
    env = embedded_env(var)
    env.pop("PYTEST_VERSION", None)
    return env


def launch_web_on_a_busy_port(env: dict) -> subprocess.CompletedProcess:
    """The launcher prepares var/ first, then finds the port taken and stops (exit code 2)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        return subprocess.run(
            [sys.executable, "-m", "evalsite.launcher", "web", "--port", port],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )


def test_the_launcher_makes_the_folders_and_one_secret_key_that_it_reuses(tmp_path):
    var = tmp_path / "var"  # a fresh clone: no var/ yet
    env = fresh_machine(var)
    first = launch_web_on_a_busy_port(env)
    assert first.returncode == 2 and "is in use" in first.stdout, first.stdout + first.stderr
    for folder in ("staticfiles", "broker/queue", "broker/processed", "broker/control"):
        assert (var / folder).is_dir(), folder
    assert (var / "celery-results").is_dir()
    key_file = var / "secret_key"
    key = key_file.read_text()
    assert len(key) >= 50 and key_file.stat().st_mode & 0o077 == 0
    assert launch_web_on_a_busy_port(env).returncode == 2
    assert key_file.read_text() == key
    read = "from django.conf import settings; print(settings.SECRET_KEY)"
    out = subprocess.run([sys.executable, "-c", read], env=env, cwd=ROOT, capture_output=True)
    assert out.stdout.decode().strip() == key


def test_with_a_secret_key_set_no_key_file_is_written(tmp_path):
    env = fresh_machine(tmp_path) | {"SECRET_KEY": "a-deployment-key-" + "x" * 40}
    assert launch_web_on_a_busy_port(env).returncode == 2
    assert (tmp_path / "staticfiles").is_dir() and not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    "command",
    [["-m", "evalsite.launcher", "worker"], ["manage.py", "check"]],
    ids=["launcher", "manage.py"],
)
def test_an_invalid_variable_stops_the_start_with_one_line_naming_it(tmp_path, command):
    env = fresh_machine(tmp_path) | {"DEBUG": "ture"}
    result = subprocess.run(
        [sys.executable, *command], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Configuration error: DEBUG='ture' is not a boolean: use 1/0, true/false, yes/no or on/off"
    )
