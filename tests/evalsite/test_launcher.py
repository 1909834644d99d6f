"""The web command the launcher builds: processes and threads from the machine, the access log
switchable (a proxy in front logs requests; gunicorn's log costs the web processes time)."""

from evalsite.launcher import parse_args, web_command, web_workers_for_cores


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
