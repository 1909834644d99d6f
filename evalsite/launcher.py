"""Start the platform's processes: the one entry point of ``make demo`` and of docker/.

``python -m evalsite.launcher`` (mode ``all``, what ``make demo`` runs) prepares the database
(migrate, static files, the admin account, demo data), starts a web server (gunicorn) and a Celery
worker on both queues, waits until ``/healthz`` is all green (its full view, with the
``HEALTH_TOKEN`` it is given or makes up and hands to its children), prints the URLs, and on
Ctrl-C (or SIGTERM) stops both and everything they started. Modes ``web`` and ``worker`` run one
of them in the foreground, as the containers of docker/compose.yaml do. Works on the embedded
default and on PostgreSQL/Redis alike. Every mode first makes the var/ folder and the local
secret key (evalsite.var_dir), which the settings only read; a variable with an invalid value
stops it with one line naming the variable (exit code 2).
"""

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from evalsite.env import env_bool, env_int, env_str
from evalsite.var_dir import prepare_var_dir

STOP_GRACE_SECONDS = 20


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["all", "web", "worker"], default="all")
    parser.add_argument("--host", default=env_str("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=env_int("PORT", 8000, minimum=1))
    parser.add_argument(
        "--web-workers",
        type=int,
        default=env_int("WEB_WORKERS", 0, minimum=0) or web_workers_for_cores(),
        help="gunicorn processes (default: one per core, at least 2)",
    )
    parser.add_argument(
        "--web-threads",
        type=int,
        default=env_int("WEB_THREADS", 8, minimum=1),
        help="threads per gunicorn process: requests that wait on the database overlap",
    )
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=env_bool("WEB_ACCESS_LOG", True),
        help="gunicorn's access log on stdout (off behind a proxy that logs: a tenth of the time)",
    )
    parser.add_argument("--queues", default="synth,cpu", help="worker: queues to consume")
    parser.add_argument("--pool", default="prefork", help="worker: solo for a GPU worker")
    parser.add_argument("--concurrency", type=int, default=2, help="worker: processes")
    parser.add_argument("--ready-timeout", type=float, default=120.0)
    return parser.parse_args(argv)


def prepare(*, demo: bool) -> None:
    """What must happen before the web server starts; each step is idempotent."""
    import django
    from django.core.management import call_command

    django.setup()
    print("Preparing the database …", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if demo:
        call_command("ensure_admin")
        call_command("seed_demo")


def web_workers_for_cores() -> int:
    return max(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)


def web_command(args: argparse.Namespace) -> list[str]:
    """gunicorn with threaded workers: a listener's request mostly waits on the database, so
    threads (each with its persistent connection) keep the cores busy, and a slow client or a
    slow health check no longer holds one of only two processes. Database connections used:
    workers × threads."""
    bind = f"{args.host}:{args.port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "evalsite.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(args.web_workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(args.web_threads),
        "--backlog",
        "2048",
    ] + (["--access-logfile", "-"] if args.access_log else [])


def worker_command(
    *, queues: str = "synth,cpu", pool: str = "prefork", concurrency: int = 2
) -> list[str]:
    """The `celery worker` command line; tests and benchmarks start their workers with it too."""
    # The parent process of a worker never touches CUDA (DESIGN.md §4): models load in the task.
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "evalsite",
        "worker",
        "-Q",
        queues,
        "--pool",
        pool,
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
    ]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start(name: str, argv: list[str], log_dir: Path) -> subprocess.Popen:
    """Start a child in its own session so that stopping it takes its whole process group."""
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(children: dict[str, subprocess.Popen]) -> None:
    """SIGTERM to each main process (gunicorn and Celery both shut down gracefully on it; the
    worker re-queues unfinished late-acked tasks), then SIGKILL whatever is left of its group."""
    for proc in children.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in {STOP_GRACE_SECONDS} s; killing it", flush=True)
        # Kill what is left of the group too: pool children of a worker that exited early.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def fetch_health(url: str, token: str) -> dict | None:
    """The full /healthz answer (the token unlocks the detail: workers, broker, media)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:  # 503 still carries the JSON body
        return json.load(err)
    except (OSError, ValueError):
        return None


def wait_until_healthy(url: str, token: str, children: dict, timeout: float) -> dict | None:
    """Poll /healthz until all green, showing what is still down.

    None when a child died or time ran out."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        for name, proc in children.items():
            if proc.poll() is not None:
                print(f"\n{name} exited with code {proc.returncode}", flush=True)
                return None
        health = fetch_health(url, token)
        waiting = "web server" if health is None else ", ".join(health["down"])
        if health and not health["down"]:
            print("\r" + " " * 78 + "\r", end="", flush=True)
            return health
        if waiting != last:
            print(f"\rWaiting for: {waiting}".ljust(78), end="", flush=True)
            last = waiting
        time.sleep(0.5)
    print(f"\nNot healthy after {timeout:.0f} s; still down: {last}", flush=True)
    return None


def wait_for_demo_test(base: str, children: dict, timeout: float = 900) -> None:
    """Open the demo's listening test once the worker has made its stimuli; print its link."""
    from mushra.demo import demo_metrics, demo_test_step

    deadline = time.monotonic() + timeout
    while all(proc.poll() is None for proc in children.values()):
        state, detail = demo_test_step()
        if state == "open":
            from mushra.models import ListeningTest

            test_id = ListeningTest.objects.get(slug=detail).pk
            print(f"\r{'':78}\r  Listen:  {base}/t/{detail}/  (the demo MUSHRA test)", flush=True)
            print(f"  Results: {base}/mushra/tests/{test_id}/  (progress and reports)", flush=True)
            print(f"  Metrics: {demo_metrics()}", flush=True)
            return
        if state == "skip" or time.monotonic() > deadline:
            print(f"\r{'':78}\rNo demo listening test: {detail}", flush=True)
            return
        print(f"\rDemo listening test: {detail} …".ljust(78), end="", flush=True)
        time.sleep(1)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        if args.mode == "all":
            # Set before the settings are read, and inherited by the children.
            os.environ["HEALTH_TOKEN"] = env_str("HEALTH_TOKEN") or secrets.token_urlsafe(32)
        prepare_var_dir()  # before anything reads the settings; also checks every variable
    except ImproperlyConfigured as err:
        print(f"Configuration error: {err}", file=sys.stderr, flush=True)
        return 2
    if args.mode == "worker":
        argv = worker_command(queues=args.queues, pool=args.pool, concurrency=args.concurrency)
        os.execv(sys.executable, argv)
    if not port_is_free(args.host, args.port):
        print(f"Port {args.port} on {args.host} is in use; choose another with PORT=…", flush=True)
        return 2
    if args.mode == "web":
        prepare(demo=False)
        os.execv(sys.executable, web_command(args))
    return run_all(args)


def run_all(args: argparse.Namespace) -> int:
    """Web server + worker as children; wait until healthy; stop both cleanly on Ctrl-C."""
    token = os.environ["HEALTH_TOKEN"]  # main() made one up if none was given
    prepare(demo=True)
    from django.conf import settings

    log_dir = settings.VAR_DIR / "logs"
    log_dir.mkdir(exist_ok=True)
    base = f"http://{args.host}:{args.port}"
    children: dict[str, subprocess.Popen] = {}
    # Ctrl-C and SIGTERM both lead to the same clean stop below. SIGINT is set explicitly because
    # a shell starts background jobs with it ignored, and Python then never raises on it.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        children["web server"] = start("web", web_command(args), log_dir)
        worker = worker_command(concurrency=args.concurrency)
        children["worker"] = start("worker", [*worker, "--hostname", "demo@%h"], log_dir)
        print(f"Starting web server and worker (logs in {log_dir}) …", flush=True)
        if wait_until_healthy(f"{base}/healthz", token, children, args.ready_timeout) is None:
            print(f"See {log_dir}/web.log and {log_dir}/worker.log", flush=True)
            return 1
        print(
            f"\nThe platform is running (all health checks green).\n"
            f"  Home:    {base}/\n  Sign in: {base}/accounts/login/  (then your dashboard)\n"
            f"  Admin:   {base}/admin/\n  Health:  {base}/healthz\n"
            f"  Data:    {settings.VAR_DIR}\nPress Ctrl-C to stop.",
            flush=True,
        )
        wait_for_demo_test(base, children)
        while all(proc.poll() is None for proc in children.values()):
            time.sleep(0.5)
        dead = [name for name, proc in children.items() if proc.poll() is not None]
        print(f"{', '.join(dead)} stopped unexpectedly; see {log_dir}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abandon the children half-way through stopping them.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nStopping …", flush=True)
        stop(children)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
