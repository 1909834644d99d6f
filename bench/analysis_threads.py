"""The confirmatory mixed model on a busy server: with the analysis' one BLAS thread vs the BLAS'
default threads (one per core), on a quiet machine and with every core busy, in one run.

    .venv/bin/python bench/analysis_threads.py [--listeners 40] [--items 50] [--conditions 10]
                                               [--repeats 2]

Why (issue 15, item 7): the platform computes results in the web process or on a Celery worker,
beside other work. OpenBLAS starts one thread per core; when the cores are busy those threads wait
on each other and the fit slows many times over. ``mushra.analysis.threads.blas_limited`` bounds
every fit to one thread. Busy = one process per core spinning in pure Python (as web and Celery
processes would keep them), started before and stopped after each timing.

Prints seconds per fit (best of --repeats) for the four cases and, last, the two ratios the issue
asks about: busy/quiet with the limit (aim ≤ 2) and, on the busy machine, default/limited.
"""

import argparse
import multiprocessing
import os
import time

from threadpoolctl import threadpool_limits

from mushra.analysis.lmm_interactions import mixed_model_full
from mushra.analysis.synthetic import mushra_ratings


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


class Busy:
    """Every core kept busy by a spinning process while the block runs."""

    def __init__(self, busy: bool) -> None:
        self.busy = busy
        self.stop = multiprocessing.Event()
        self.procs: list[multiprocessing.Process] = []

    def __enter__(self):
        if self.busy:
            for _ in range(os.cpu_count() or 1):
                proc = multiprocessing.Process(target=_spin, args=(self.stop,), daemon=True)
                proc.start()
                self.procs.append(proc)
            time.sleep(0.5)
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join()


def _time(fit, df, systems, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit(df, systems, systems[0])
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listeners", type=int, default=40)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--conditions", type=int, default=10)
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    df = mushra_ratings(a.listeners, a.items, a.conditions, seed=1)
    systems = sorted(c for c in df["condition"].unique() if c.startswith("sys"))
    limited, free = mixed_model_full, mixed_model_full.__wrapped__
    print(f"{len(df):,} ratings, {len(systems)} systems, {os.cpu_count()} cores")
    times = {}
    for busy in (False, True):
        with Busy(busy):
            times[("limited", busy)] = _time(limited, df, systems, a.repeats)
            with threadpool_limits(limits=None):  # the BLAS' own default: a thread per core
                times[("default", busy)] = _time(free, df, systems, a.repeats)
    print(f"{'BLAS threads':<22}{'quiet s':>10}{'busy s':>10}")
    for name, label in (("limited", "1 (the analysis')"), ("default", "default (per core)")):
        print(f"{label:<22}{times[(name, False)]:>10.2f}{times[(name, True)]:>10.2f}")
    slowdown = times[("limited", True)] / times[("limited", False)]
    print(f"busy / quiet with one thread: {slowdown:.2f}")
    print(f"busy: default / one thread: {times[('default', True)] / times[('limited', True)]:.2f}")


if __name__ == "__main__":
    main()
