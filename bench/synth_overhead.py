"""Synthesis through the whole platform vs the backend's own synthesize() loop, same sentences.

    .venv/bin/python bench/synth_overhead.py [--backend piper|espeak-ng] [--n 20]

Raw: load the backend in this process and call synthesize() once per sentence. Platform: a
synthesis job on SQLite and the embedded filesystem broker (or --broker redis://…) with a real
Celery worker (prefork, --concurrency processes, both queues): job → Celery → backend → storage
→ preparation (resample, loudness, FLAC) → stored stimulus, timed until every stimulus is ready.
Prints both rates and, last, the ratio platform/raw (aim ≥ 0.8).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from evalsite.launcher import worker_command
from synth_workers.harvard import HARVARD_SENTENCES

ROOT = Path(__file__).resolve().parent.parent

CLIENT = """
import json, sys, time, django
django.setup()
from synth_workers.backends import SynthRequest, get_backend, joe_voice_files
from synth_workers.models import Corpus, Stimulus, SynthesisJob, Utterance
from synth_workers.services.registration import system_check, system_register
from synth_workers.services.synthesis import job_create

backend_name, texts = sys.argv[1], json.loads(sys.argv[2])
files = joe_voice_files() if backend_name == "piper" else {}
backend = get_backend(backend_name)()
backend.load(files, {}, "cpu")
backend.synthesize([SynthRequest(text="Warm up.")])
t0 = time.perf_counter()
for text in texts:
    backend.synthesize([SynthRequest(text=text)])
raw = time.perf_counter() - t0

system = system_register(name="bench", backend=backend_name, files=files)
system_check(system_id=system.pk)
system.refresh_from_db()
corpus = Corpus.objects.create(name="bench", default_language="en-us")
Utterance.objects.bulk_create(Utterance(corpus=corpus, key=f"s{i:03d}", text=t, language="en-us")
                              for i, t in enumerate(texts))
t0 = time.perf_counter()
job = job_create(system=system, corpus=corpus)
while True:
    job.refresh_from_db()
    ready = Stimulus.objects.filter(system=system, status="ready").count()
    if job.status == "done" and ready + job.failed == job.total:
        break
    time.sleep(0.05)
platform = time.perf_counter() - t0
print(json.dumps({"raw": raw, "platform": platform, "n": len(texts), "failed": job.failed}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="piper", choices=["piper", "espeak-ng"])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--broker", default="", help="e.g. redis://127.0.0.1:6379/6 (default: embedded)"
    )
    args = parser.parse_args()
    texts = [
        HARVARD_SENTENCES[i % len(HARVARD_SENTENCES)] + f" Take {i + 1}." for i in range(args.n)
    ]
    with tempfile.TemporaryDirectory() as var:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")
        }
        env |= {"EVALSITE_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "evalsite.settings"}
        if args.broker:
            env["CELERY_BROKER_URL"] = args.broker
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True
        )
        worker = subprocess.Popen(
            worker_command(concurrency=args.concurrency),
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client = subprocess.run(
                [sys.executable, "-c", CLIENT, args.backend, json.dumps(texts)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=900,
            )
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    if client.returncode != 0:
        sys.exit(f"the benchmark client failed:\n{client.stderr[-3000:]}")
    r = json.loads(client.stdout.strip().splitlines()[-1])
    broker = args.broker or "embedded filesystem broker"
    print(
        f"{args.backend}: {r['n']} sentences ({r['failed']} failed), {broker}, "
        f"{args.concurrency} worker process(es)"
    )
    print(f"{'path':<44}{'seconds':>9}{'stimuli/s':>11}")
    print(f"{'raw synthesize() loop':<44}{r['raw']:>9.2f}{r['n'] / r['raw']:>11.2f}")
    label = "platform (job → worker → prepared stimulus)"
    print(f"{label:<44}{r['platform']:>9.2f}{r['n'] / r['platform']:>11.2f}")
    print(f"platform/raw throughput ratio: {r['raw'] / r['platform']:.2f}")


if __name__ == "__main__":
    main()
