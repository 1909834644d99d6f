"""Stimulus preparation throughput: synth_workers.audio vs the same steps done with sox.

    .venv/bin/python bench/audio_prep.py [--limit N] [--ceiling DBTP]

Input: the codec-mushra data set (../shared/datasets/codec-mushra/audio/*/*.wav, 160 files,
24 kHz stereo). Each file becomes three 24-bit FLAC files at 48 kHz: the stimulus (mono,
-23 LUFS) and its two BS.1534-3 anchors (3.5 kHz and 7 kHz low-pass, each back at -23 LUFS).

ours: read_audio → prepare (validate, downmix, resample, normalise) → prepare_anchors →
      write_audio × 3, in this process.
sox:  per file, six sox processes:
        sox in.wav tmp.wav remix - rate -v 48k          (float WAV intermediates)
        sox tmp.wav -b 24 out.flac gain G               (G from our BS.1770 meter on tmp.wav)
        sox out.flac raw35.wav sinc -3500 ; sox raw35.wav -b 24 a35.flac gain G35   (same, 7 kHz)
      sox has no loudness meter, so the gains come from synth_workers' meter reading sox's
      intermediate files; that reading is counted in sox's time. sox does not validate and
      checks no true-peak ceiling; ours does both.

Both sides run serially, one file after another, in the same run. Prints a table and, last,
the ratio of ours to sox in files per second. Nothing here asserts on time.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from synth_workers.audio import (
    AudioError,
    PreparationPolicy,
    integrated_loudness,
    prepare,
    prepare_anchors,
    read_audio,
    write_audio,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "codec-mushra" / "audio"
ANCHOR_CUTOFFS = {"anchor_35": 3500, "anchor_70": 7000}


def label(path: Path) -> str:
    """Output name prefix, e.g. stim_01_ref: item folder and file name are unique together."""
    return f"{path.parent.name}_{path.stem}"


def run_ours(files: list[Path], out: Path, policy: PreparationPolicy) -> tuple[float, list[Path]]:
    """Seconds for all files (refusals included), and the files actually prepared."""
    prepared = []
    start = time.perf_counter()
    for path in files:
        try:
            stimulus = prepare(read_audio(path), policy)
            outputs = {"stimulus": stimulus, **prepare_anchors(stimulus, policy)}
        except AudioError as exc:
            print(f"ours refused {path.parent.name}/{path.name}: {exc}")
            continue
        for name, audio in outputs.items():
            write_audio(audio, out / f"{label(path)}_{name}.flac", policy.fmt, policy.subtype)
        prepared.append(path)
    return time.perf_counter() - start, prepared


def sox(*args: str | Path) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True)


def gain_to(path: Path, target: float) -> str:
    return f"{target - integrated_loudness(read_audio(path)):.4f}"


def run_sox(files: list[Path], out: Path, target: float) -> float:
    start = time.perf_counter()
    for path in files:
        tmp = out / f"{label(path)}_tmp.wav"
        stimulus = out / f"{label(path)}_stimulus.flac"
        sox(path, "-e", "floating-point", "-b", "32", tmp, "remix", "-", "rate", "-v", "48k")
        sox(tmp, "-b", "24", stimulus, "gain", gain_to(tmp, target))
        for name, cutoff in ANCHOR_CUTOFFS.items():
            raw = out / f"{label(path)}_{name}_raw.wav"
            sox(stimulus, "-e", "floating-point", "-b", "32", raw, "sinc", f"-{cutoff}")
            sox(raw, "-b", "24", out / f"{label(path)}_{name}.flac", "gain", gain_to(raw, target))
    return time.perf_counter() - start


def loudness_gap(ours: Path, theirs: Path, files: list[Path]) -> float:
    """Largest |LUFS ours - LUFS sox| over all outputs: a check that both sides did the job."""
    gaps = []
    for path in files:
        for name in ("stimulus", *ANCHOR_CUTOFFS):
            pair = (ours / f"{label(path)}_{name}.flac", theirs / f"{label(path)}_{name}.flac")
            ours_lufs, sox_lufs = (integrated_loudness(read_audio(p)) for p in pair)
            gaps.append(abs(ours_lufs - sox_lufs))
    return max(gaps, default=float("nan"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N files")
    parser.add_argument(
        "--ceiling",
        type=float,
        default=0.0,
        help="true-peak ceiling in dBTP (default 0); files ours refuses are left out of sox's run",
    )
    return parser.parse_args()


def row(side: str, files: int, seconds: float) -> str:
    return f"{side:<6}{files:>7}{seconds:>10.2f}{files / seconds:>10.2f}"


def main() -> None:
    args = parse_args()
    files = sorted(DATA.glob("*/*.wav"))[: args.limit]
    if not files:
        sys.exit(f"no input files under {DATA}")
    policy = PreparationPolicy(sample_rate=48000, target_lufs=-23.0, true_peak_ceiling=args.ceiling)
    with tempfile.TemporaryDirectory() as tmp:
        ours_dir, sox_dir = Path(tmp, "ours"), Path(tmp, "sox")
        ours_dir.mkdir()
        sox_dir.mkdir()
        ours_s, prepared = run_ours(files, ours_dir, policy)
        print(f"{len(files)} files, 24 kHz stereo -> 48 kHz mono, -23 LUFS, 2 anchors, FLAC 24-bit")
        if len(prepared) < len(files):
            refused = len(files) - len(prepared)
            print(f"ours refused {refused} at the {args.ceiling:g} dBTP ceiling (time counted)")
        print(f"{'side':<6}{'files':>7}{'seconds':>10}{'files/s':>10}")
        print(row("ours", len(prepared), ours_s))
        if shutil.which("sox") is None:
            print("sox is not installed (apt-get install -y sox): comparison skipped")
            print("ours/sox files per second: n/a (no sox)")
            return
        sox_s = run_sox(prepared, sox_dir, policy.target_lufs)
        print(row("sox", len(prepared), sox_s))
        gap = loudness_gap(ours_dir, sox_dir, prepared)
        print(f"largest loudness difference, ours vs sox outputs: {gap:.3f} LU")
        # Same files on both sides, so the ratio of rates is the inverse ratio of times.
        print(f"ours/sox files per second: {sox_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
