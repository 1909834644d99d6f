"""The embedded default end to end: the real processes of `make demo` on SQLite + filesystem broker.

Starts `python -m evalsite.launcher` (what `make demo` runs) in a private var/ folder that does not
exist yet (a fresh clone), with no service variables and no secret key; waits for it to report all
green, checks /healthz, the pages and a task round trip on each queue, stops it with Ctrl-C
(SIGINT) and checks nothing it started is left. Then starts it a second time on the same folder:
`make demo` must be idempotent.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.services import embedded_env

pytestmark = pytest.mark.slow
READY = "The platform is running"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_using(var_dir: Path) -> list[int]:
    """Pids of every process whose environment names this var/ folder (pool children too)."""
    marker = f"EVALSITE_VAR_DIR={var_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) != os.getpid():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def kill_leftovers(var_dir: Path) -> list[int]:
    """SIGKILL what is left (children run in sessions of their own); return their pids."""
    left = processes_using(var_dir)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def get(url: str, headers: dict | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=10
        ) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_launcher(
    env: dict, port: int, *, as_background_job: bool = False
) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "evalsite.launcher", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # A shell starts `make demo &` with SIGINT ignored; Ctrl-C (kill -INT) must still stop it.
        preexec_fn=ignore_sigint if as_background_job else None,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        lines.append(line)
        if READY in line:
            return proc, lines
    proc.kill()
    kill_leftovers(Path(env["EVALSITE_VAR_DIR"]))
    pytest.fail("launcher never became ready:\n" + "".join(lines))


def stop_launcher(proc: subprocess.Popen, var_dir: Path) -> str:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in `make demo` sends
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    deadline = time.monotonic() + 10
    while processes_using(var_dir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kill_leftovers(var_dir) == [], "processes left behind after Ctrl-C"
    return out


def check_running_platform(base: str, env: dict) -> None:
    status, body = get(f"{base}/healthz")  # public: the database answers, nothing more is said
    assert status == 200 and json.loads(body)["checks"] == {"database": {"ok": True}}, body
    assert env["EVALSITE_VAR_DIR"] not in body
    token = {"Authorization": f"Bearer {env['HEALTH_TOKEN']}"}  # what the launcher polls with
    status, body = get(f"{base}/healthz", token)
    health = json.loads(body)
    assert status == 200 and health["down"] == [] and health["view"] == "full", health
    assert health["checks"]["database"]["detail"].startswith("sqlite")
    assert health["checks"]["broker"]["detail"].startswith("broker filesystem ")

    status, landing = get(f"{base}/")
    assert status == 200 and 'href="/accounts/login/"' in landing  # scientists sign in there
    css = re.search(r'href="(/static/css/site\.[0-9a-f]+\.css)"', landing)
    assert css, "static files are not served through the manifest storage"
    assert get(base + css.group(1))[0] == 200  # whitenoise serves it, no nginx needed
    assert get(f"{base}/admin/login/")[0] == 200
    assert get(f"{base}/accounts/login/")[0] == 200

    ping = subprocess.run(
        [sys.executable, "manage.py", "ping_workers", "--timeout", "30"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "queue 'synth': answered by" in ping.stdout
    assert "queue 'cpu': answered by" in ping.stdout


@contextmanager
def running_launcher(
    env: dict, port: int, var_dir: Path, transcript: list[str] | None = None, **start_options
):
    """Yield the launcher's start-up output; on exit, Ctrl-C it and check that it stopped.
    ``transcript``, if given, receives everything the launcher printed."""
    proc, lines = start_launcher(env, port, **start_options)
    try:
        yield "".join(lines)
    except BaseException:
        proc.kill()
        kill_leftovers(var_dir)
        raise
    out = stop_launcher(proc, var_dir)
    assert "Stopped." in out
    if transcript is not None:
        transcript.extend([*lines, out])


DEMO_STATE = """
import json, django
django.setup()
from mushra.metric_reads import listening_test_metric_progress
from mushra.models import ListeningTest
from synth_workers.models import Stimulus, SynthesisJob
demo = ListeningTest.objects.filter(slug="demo").first()
print(json.dumps({
    "jobs": sorted(SynthesisJob.objects.values_list("status", "done", "failed", "total")),
    "stimuli": sorted(set(Stimulus.objects.values_list("status", flat=True))),
    "metrics": listening_test_metric_progress(demo) if demo else None,
    "kokoro": list(Stimulus.objects.filter(system__backend="kokoro").values_list(
        "condition", flat=True)),
}))
"""


def wait_for_demo_synthesis(env: dict, timeout: float = 180) -> dict:
    """The demo's jobs are rendered by the real worker and their stimuli prepared."""
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(
            [sys.executable, "-c", DEMO_STATE],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        state = json.loads(out.strip().splitlines()[-1])
        if (
            state["jobs"]
            and all(j[0] == "done" for j in state["jobs"])
            and state["stimuli"] == ["ready"]
        ):
            return state
        assert time.monotonic() < deadline, f"demo synthesis did not finish: {state}"
        time.sleep(1)


def test_demo_processes_run_answer_and_stop_cleanly_twice(tmp_path):
    var = tmp_path / "var"  # the launcher makes it, and the secret key in it
    env = embedded_env(var) | {"EVALSITE_ADMIN_PASSWORD": "", "HEALTH_TOKEN": "a-demo-token"}
    env.pop("PYTEST_VERSION", None)  # no key of the process' own, as outside a test run
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    transcript: list[str] = []
    with running_launcher(env, port, var, transcript=transcript) as output:
        assert re.search(r"Created admin account 'scientist' with password '\S+'", output)
        assert "synthesis queued: /synthesis/jobs/" in output
        check_running_platform(base, env)
        state = wait_for_demo_synthesis(env)
        # Piper, the WORLD prosody transfer built on it, Kokoro's Japanese voice speaking English
        # and espeak-ng in two styles.
        jobs = [(done, failed) for _, done, failed, _ in state["jobs"]]
        assert jobs == [(5, 0), (5, 0), (5, 0), (10, 0)]
        assert state["kokoro"] == [{"language": "en-us", "speaker": "jm_kumo"}] * 5
        # Then the launcher opens the demo's MUSHRA test on those stimuli.
        deadline = time.monotonic() + 30
        while (page := get(f"{base}/t/demo/"))[0] != 200:
            assert time.monotonic() < deadline, f"the demo test did not open: {page}"
            time.sleep(0.5)
        assert 'id="start"' in page[1]
        # Then it queues the test's objective metrics, which the worker measures, every one (so
        # the second start below has none to resume ahead of its queue pings).
        deadline = time.monotonic() + 300
        while (metrics := wait_for_demo_synthesis(env)["metrics"]) != {"ready": 35, "measured": 35}:
            assert time.monotonic() < deadline, f"the demo's metrics were not measured: {metrics}"
            time.sleep(2)
    # It printed the listener link and the scientist's page of the test.
    said = "".join(transcript)
    assert "Metrics: objective metrics of 35 stimuli queued on the worker" in said
    assert f"Listen:  {base}/t/demo/" in said
    assert re.search(rf"Results: {base}/mushra/tests/\d+/", said), said
    # The same var/ again (idempotent), this time started the way a shell starts `make demo &`.
    with running_launcher(env, port, var, as_background_job=True) as output:
        assert "password unchanged" in output
        check_running_platform(base, env)
