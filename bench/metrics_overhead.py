"""Objective metrics through the platform vs the metric functions called in a loop, same files.

    .venv/bin/python bench/metrics_overhead.py [--stimuli 20] [--rounds 10]
        [--database-url postgres://…] [--broker redis://…] [--var-dir DIR]

Setup: a fresh database (SQLite in a temporary var dir, or --database-url), the Piper voice joe
rendering Harvard sentences in this process, imported as corpora (one per round) with a rendered
system each; a real Celery worker (`cpu` queue, prefork, one process: like for like with the
single-process loop) prepares them into ready stimuli (48 kHz FLAC). Before anything is timed
both sides run every metric on a throwaway stimulus, so every model is loaded.

Raw: this process reads and decodes the prepared FLAC files (printed apart, not counted), then
calls every metric of the registry that applies on each stimulus in a loop. Platform:
`corpus_metrics_request` (what `manage.py measure_metrics --queue` runs) → one `measure_stimulus`
task per stimulus → the worker reads the file, runs every metric and stores the rows; timed from
the request until every StimulusMetric row is in the database (polled every 50 ms). The sides
alternate round by round (a shared machine's load drifts). Prints the raw time per metric, the
platform's time inside its tasks (the worker's log) and between them, both rates with their CPU
seconds, whether the stored values equal the loop's, and last the ratio platform/raw in stimuli
per second (aim ≥ 0.9). Nothing here asserts on time.
"""

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIM = 0.9
POLL_S = 0.05
TASK_DONE = re.compile(r"measure_stimulus\[[^\]]+\] succeeded in ([0-9.]+)s")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stimuli", type=int, default=20, help="stimuli measured on each side")
    parser.add_argument(
        "--database-url", default="", help="e.g. postgres://… (default: SQLite in a temp var dir)"
    )
    parser.add_argument("--broker", default="", help="e.g. redis://… (default: embedded)")
    parser.add_argument(
        "--var-dir", default="", help="media, logs, broker folder (default: a temporary one)"
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="alternate raw and platform over this many parts"
    )
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for each wait")
    return parser.parse_args()


def configure(var: str, args: argparse.Namespace) -> dict:
    """This process' environment for Django, and the same for the worker."""
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "MEDIA_ROOT"):
        os.environ.pop(name, None)
    os.environ |= {"EVALSITE_VAR_DIR": var, "DJANGO_SETTINGS_MODULE": "evalsite.settings"}
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.broker:
        os.environ["CELERY_BROKER_URL"] = args.broker
    return dict(os.environ)


def start_worker(env: dict, log_path: Path) -> subprocess.Popen:
    from evalsite.launcher import worker_command

    argv = [
        *worker_command(queues="cpu", pool="prefork", concurrency=1),
        "--hostname",
        f"bench-metrics-{uuid.uuid4().hex[:8]}@%h",
    ]
    with open(log_path, "wb") as log:
        return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def wait_for(what: str, done, worker: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited (code {worker.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(POLL_S)


def render_corpus(name: str, texts: list[str], folder: Path, backend):
    """A corpus of ``texts`` and the system of joe's renderings of them (stimuli pending; the
    import queues their preparation on the `cpu` queue)."""
    from synth_workers.audio import write_audio
    from synth_workers.backends import SynthRequest
    from synth_workers.models import Corpus
    from synth_workers.services.imports import corpus_import, rendered_import

    folder.mkdir(parents=True)
    manifest = io.StringIO()
    writer = csv.writer(manifest, lineterminator="\n")
    writer.writerow(["key", "text"])
    for i, text in enumerate(texts):
        key = f"s{i:03d}"
        writer.writerow([key, text])
        (clip,) = backend.synthesize([SynthRequest(text=text)])
        write_audio(clip, folder / f"{key}.wav", "wav", "PCM_16")
    corpus_import(
        name=name,
        manifest_name="manifest.csv",
        manifest_data=manifest.getvalue().encode(),
        default_language="en-us",
    )
    corpus = Corpus.objects.get(name=name)
    rendered_import(corpus=corpus, system_name=f"{name} joe", audio_path=folder)
    return corpus


def prepared_inputs(corpus) -> list[dict]:
    """Each ready stimulus' samples, rate, text and language, read as stimulus_measure reads it."""
    import soundfile
    from django.core.files.storage import default_storage

    from synth_workers.metric_catalog import stimulus_language
    from synth_workers.selectors import corpus_stimuli

    inputs = []
    for stim in corpus_stimuli(corpus).select_related("utterance").order_by("pk"):
        with default_storage.open(stim.audio.name, "rb") as f:
            data, rate = soundfile.read(io.BytesIO(f.read()), dtype="float32", always_2d=True)
        language = stimulus_language(stim.condition, stim.utterance.language)
        inputs.append(
            {
                "pk": stim.pk,
                "samples": data.mean(axis=1),
                "rate": rate,
                "text": stim.utterance.text,
                "language": language,
            }
        )
    return inputs


def run_raw(inputs: list[dict], metrics: list) -> dict:
    """Every applicable metric on every input: wall and CPU seconds, seconds per metric, values."""
    from synth_workers.metric_catalog import applies

    per_metric = dict.fromkeys((m.name for m in metrics), 0.0)
    values = {}
    cpu0, start = time.process_time(), time.perf_counter()
    for item in inputs:
        for metric in metrics:
            if not applies(metric, text=item["text"], language=item["language"]):
                continue
            t0 = time.perf_counter()
            values[item["pk"], metric.name] = metric.function(
                item["samples"], item["rate"], text=item["text"], language=item["language"]
            )
            per_metric[metric.name] += time.perf_counter() - t0
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu0
    return {"wall": wall, "cpu": cpu, "per_metric": per_metric, "values": values}


def warm_up(inputs: list[dict], metrics: list) -> None:
    """Each metric once, so its model is loaded before the timing."""
    first = inputs[0]
    for metric in metrics:
        metric.function(
            first["samples"], first["rate"], text=first["text"], language=first["language"]
        )


def run_platform(corpus, worker: subprocess.Popen, log_path: Path, timeout: float) -> dict:
    """Wall seconds from the request until every row is stored, the worker's CPU seconds, the
    seconds spent inside measure_stimulus tasks (its log), and how many rows were stored."""
    from synth_workers.metric_catalog import chosen_metrics
    from synth_workers.models import StimulusMetric
    from synth_workers.selectors import corpus_stimuli, missing_by_stimulus
    from synth_workers.services.metrics import corpus_metrics_request

    missing = missing_by_stimulus(corpus_stimuli(corpus), chosen_metrics())
    expected = sum(len(todo) for todo in missing.values())
    rows = StimulusMetric.objects.filter(stimulus__utterance__corpus=corpus)
    log_offset = log_path.stat().st_size
    cpu0, start = tree_cpu_seconds(worker.pid), time.perf_counter()
    corpus_metrics_request(corpus=corpus)
    wait_for("every metric is stored", lambda: rows.count() >= expected, worker, timeout)
    wall, cpu = time.perf_counter() - start, tree_cpu_seconds(worker.pid) - cpu0
    in_tasks = task_seconds(log_path, log_offset, len(missing), timeout=10)
    return {"wall": wall, "cpu": cpu, "in_tasks": in_tasks, "rows": expected}


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself or its child
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def task_seconds(log_path: Path, offset: int, tasks: int, timeout: float) -> float:
    """The durations Celery logged for the measure_stimulus tasks after ``offset``; waits for
    the last lines (written just after the task stored its rows)."""
    deadline = time.monotonic() + timeout
    while True:
        with open(log_path, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        found = TASK_DONE.findall(text)
        if len(found) >= tasks or time.monotonic() > deadline:
            return sum(float(s) for s in found)
        time.sleep(POLL_S)


def same_values(corpora: list, raw_values: dict) -> tuple[int, int]:
    """How many stored values equal the raw loop's (both sides did the same work)."""
    from synth_workers.models import StimulusMetric

    stored = StimulusMetric.objects.filter(stimulus__utterance__corpus__in=corpora)
    equal = sum(1 for row in stored if raw_values.get((row.stimulus_id, row.name)) == row.value)
    return equal, stored.count()


def texts_for(n: int) -> list[str]:
    from synth_workers.harvard import HARVARD_SENTENCES

    return [HARVARD_SENTENCES[i % len(HARVARD_SENTENCES)] + f" Take {i + 1}." for i in range(n)]


def rounds_of(texts: list[str], rounds: int) -> list[list[str]]:
    size = -(-len(texts) // rounds)
    return [texts[i : i + size] for i in range(0, len(texts), size)]


def ready_corpora(args: argparse.Namespace, var: Path, worker: subprocess.Popen) -> tuple:
    """The warm-up corpus (one stimulus) and one corpus per round, every stimulus ready."""
    from synth_workers.backends import get_backend, joe_voice_files
    from synth_workers.models import Stimulus

    backend = get_backend("piper")()
    backend.load(joe_voice_files(), {}, "cpu")
    tag = uuid.uuid4().hex[:6]  # names stay free on a reused --database-url or --var-dir
    renders = var / f"rendered-{tag}"
    warm = render_corpus(f"warm-up {tag}", ["Warm up the models."], renders / "warm", backend)
    corpora = [
        render_corpus(f"bench {tag} round {k + 1}", texts, renders / f"round{k + 1}", backend)
        for k, texts in enumerate(rounds_of(texts_for(args.stimuli), args.rounds))
    ]
    pending = Stimulus.objects.filter(utterance__corpus__in=[warm, *corpora]).exclude(
        status=Stimulus.Status.READY
    )
    wait_for("the stimuli are prepared", lambda: not pending.exists(), worker, args.timeout)
    return warm, corpora


def measure_rounds(corpora: list, metrics: list, worker, log_path: Path, timeout: float) -> dict:
    """Raw and platform on each round's stimuli in turn, the first side alternating, so that a
    change in the machine's load over the run falls on both."""
    raw, platform, inputs, read_s = [], [], [], 0.0
    for k, corpus in enumerate(corpora):
        t0 = time.perf_counter()
        chunk = prepared_inputs(corpus)
        read_s += time.perf_counter() - t0
        inputs += chunk
        if k % 2 == 0:
            raw.append(run_raw(chunk, metrics))
        platform.append(run_platform(corpus, worker, log_path, timeout))
        if k % 2 == 1:
            raw.append(run_raw(chunk, metrics))
    raw_values = {key: v for r in raw for key, v in r["values"].items()}
    equal, stored = same_values(corpora, raw_values)
    return {
        "n": len(inputs),
        "rounds": len(corpora),
        "seconds": sum(i["samples"].size / i["rate"] for i in inputs) / len(inputs),
        "rate": inputs[0]["rate"],
        "metrics": [m.name for m in metrics],
        "read_s": read_s,
        "per_metric": {m.name: sum(r["per_metric"][m.name] for r in raw) for m in metrics},
        "raw": {key: sum(r[key] for r in raw) for key in ("wall", "cpu")},
        "raw_rows": len(raw_values),
        "platform": {key: sum(p[key] for p in platform) for key in ("wall", "cpu", "in_tasks")},
        "platform_rows": sum(p["rows"] for p in platform),
        "equal": equal,
        "stored": stored,
    }


def bench(args: argparse.Namespace, var: Path, log_path: Path) -> dict:
    env = configure(str(var), args)
    import django
    from django.core.management import call_command

    from evalsite.var_dir import prepare_var_dir

    prepare_var_dir()  # the secret key and folders of this fresh var/, as the launcher makes them
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from synth_workers.metric_catalog import chosen_metrics

    worker = start_worker(env, log_path)
    try:
        warm, corpora = ready_corpora(args, var, worker)
        metrics = chosen_metrics()
        # Both sides load every model on a throwaway stimulus before anything is timed.
        run_platform(warm, worker, log_path, args.timeout)
        warm_up(prepared_inputs(warm), metrics)
        return measure_rounds(corpora, metrics, worker, log_path, args.timeout)
    except BaseException:
        print(log_path.read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        stop_worker(worker)


def report(r: dict, args: argparse.Namespace) -> None:
    n, raw, platform = r["n"], r["raw"], r["platform"]
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    broker = args.broker or "embedded filesystem broker"
    print(
        f"{n} stimuli (Piper joe, Harvard sentences, mean {r['seconds']:.1f} s, {r['rate']} Hz "
        f"FLAC), {len(r['metrics'])} metrics, {r['rounds']} interleaved rounds, {database}, "
        f"{broker}, 1 worker process (cpu queue, prefork)"
    )
    print(f"{'raw loop, per metric':<36}{'seconds':>9}{'ms/stimulus':>13}")
    for name, s in sorted(r["per_metric"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<34}{s:>9.2f}{1000 * s / n:>13.1f}")
    read = "  read + decode FLAC (not counted)"
    print(f"{read:<36}{r['read_s']:>9.2f}{1000 * r['read_s'] / n:>13.1f}")
    between = platform["wall"] - platform["in_tasks"]
    print(f"{'platform, from the worker log':<36}{'seconds':>9}{'ms/stimulus':>13}")
    for label, s in (
        ("inside measure_stimulus tasks", platform["in_tasks"]),
        ("between (queue, broker, DB poll)", between),
    ):
        print(f"  {label:<34}{s:>9.2f}{1000 * s / n:>13.1f}")
    print(f"{'path':<36}{'seconds':>9}{'stimuli/s':>11}{'CPU s':>8}{'rows':>6}")
    for label, side, rows in (
        ("raw metric loop", raw, r["raw_rows"]),
        ("platform (task → metrics → stored)", platform, r["platform_rows"]),
    ):
        print(
            f"{label:<36}{side['wall']:>9.2f}{n / side['wall']:>11.2f}{side['cpu']:>8.1f}{rows:>6}"
        )
    print(f"stored values equal to the raw loop's: {r['equal']}/{r['stored']}")
    cpu = platform["cpu"] / raw["cpu"]
    print(f"platform/raw CPU seconds (worker processes / this process): {cpu:.2f}")
    ratio = raw["wall"] / platform["wall"]
    print(f"platform/raw stimuli per second: {ratio:.2f} (aim ≥ {AIM})")


def main() -> None:
    args = parse_args()
    if args.stimuli < 1 or args.rounds < 1:
        sys.exit("--stimuli and --rounds must be at least 1")
    args.rounds = min(args.rounds, args.stimuli)
    if args.var_dir:
        var = Path(args.var_dir).resolve()
        var.mkdir(parents=True, exist_ok=True)
        result = bench(args, var, var / "worker.log")
    else:
        with tempfile.TemporaryDirectory(prefix="metrics-bench-") as tmp:
            result = bench(args, Path(tmp), Path(tmp) / "worker.log")
    report(result, args)


if __name__ == "__main__":
    main()
