"""Task round-trip latency: the embedded filesystem broker vs Redis, through a real worker.

    .venv/bin/python bench/task_roundtrip.py [--n 50] [--redis redis://127.0.0.1:6379/6]

For each broker it starts a real `celery worker` (solo pool), sends `n` ping tasks one after
another and waits for each answer (the client polls for the result every 10 ms, so the figure is
the broker's latency, not the result backend's). Prints median and p95 per broker and, last,
the ratio of the filesystem broker's median to Redis' — the price of running without servers.
Skips Redis (and the ratio) when no Redis answers.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from evalsite.launcher import worker_command

ROOT = Path(__file__).resolve().parent.parent

CLIENT = """
import json, sys, time, uuid, django
django.setup()
from evalsite.tasks import ping
n = int(sys.argv[1])
deadline = time.monotonic() + 60
while True:  # wait for the worker to answer once
    try:
        ping.apply_async(("warm",), expires=5).get(timeout=5)
        break
    except Exception:
        if time.monotonic() > deadline:
            raise
times = []
for _ in range(n):
    t0 = time.perf_counter()
    token = uuid.uuid4().hex
    assert ping.delay(token).get(timeout=30, interval=0.01)["token"] == token
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def measure(env: dict, n: int) -> list[float]:
    # A fresh var/ folder: its secret key and broker folders first, as the launcher makes them.
    prepare = "from evalsite.var_dir import prepare_var_dir; prepare_var_dir()"
    subprocess.run([sys.executable, "-c", prepare], env=env, cwd=ROOT, check=True)
    worker = subprocess.Popen(
        [*worker_command(pool="solo", concurrency=1), "--without-mingle", "--without-gossip"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", CLIENT, str(n)],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
    }
    results = {}
    with tempfile.TemporaryDirectory() as var:
        base |= {"EVALSITE_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "evalsite.settings"}
        results["filesystem (embedded)"] = measure(base, args.n)
        if redis_answers(args.redis):
            results["redis"] = measure(base | {"CELERY_BROKER_URL": args.redis}, args.n)
    print(f"{'broker':<24}{'n':>5}{'median ms':>12}{'p95 ms':>10}")
    medians = {}
    for name, times in results.items():
        medians[name] = statistics.median(times) * 1000
        p95 = statistics.quantiles(times, n=20)[-1] * 1000
        print(f"{name:<24}{len(times):>5}{medians[name]:>12.1f}{p95:>10.1f}")
    if "redis" in medians:
        ratio = medians["filesystem (embedded)"] / medians["redis"]
        print(f"filesystem/redis median round-trip ratio: {ratio:.1f}x")
    else:
        print("filesystem/redis median round-trip ratio: n/a (no Redis answered)")


if __name__ == "__main__":
    main()
