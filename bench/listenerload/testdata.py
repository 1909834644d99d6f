"""Build the benchmark's open MUSHRA test through the platform's own services.

Run as a script with the bench's DATABASE_URL and EVALSITE_VAR_DIR (Django is set up here, never
in the benchmark's own process):

    python bench/listenerload/testdata.py OUT_DIR [--training] [--seconds 1.0]

Migrates, collects static files (templates need the manifest), imports a corpus of 10 recordings
and three pre-rendered systems as real small WAVs, prepares every stimulus (anchors included),
then creates and opens a test with 10 trials per session x 6 signals (hidden reference, two
anchors, three systems). Writes the prepared audio, as our audio view sends it (24-bit WAV), to
OUT_DIR/audio/<item>/<signal>.wav for the pymushra side, and prints one JSON line:
{"slug", "test_id", "items", "signals"}.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

ITEMS = 10
SYSTEMS = ("sysA", "sysB", "sysC")
SLUG = "bench-listener"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--training", action="store_true")
    parser.add_argument("--attention-checks", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=1.0)
    return parser.parse_args()


def write_sources(folder: Path, seconds: float) -> None:
    from tests.support.audio import write_tone

    for i in range(ITEMS):
        write_tone(folder / "rec" / f"item{i}.wav", seconds=seconds, freq=160 + 15 * i, seed=i)
        for s, name in enumerate(SYSTEMS):
            write_tone(folder / name / f"item{i}.wav", seconds=seconds, freq=300 + 40 * s + 7 * i)


def import_corpus(folder: Path):
    from synth_workers.models import Corpus, Stimulus
    from synth_workers.services import corpus_import, rendered_import
    from synth_workers.services.preparation import stimulus_prepare

    rows = ["key,text,recording"] + [f"item{i},Sentence {i}.,item{i}.wav" for i in range(ITEMS)]
    corpus_import(
        name="Bench corpus",
        manifest_name="manifest.csv",
        manifest_data="\n".join(rows).encode(),
        audio_path=folder / "rec",
    )
    corpus = Corpus.objects.get(name="Bench corpus")
    for name in SYSTEMS:
        rendered_import(corpus=corpus, system_name=name, audio_path=folder / name)
    for pk in Stimulus.objects.filter(status="pending").values_list("pk", flat=True):
        stimulus_prepare(stimulus_id=pk)
    if Stimulus.objects.exclude(status="ready").exists():
        sys.exit("some stimuli could not be prepared")
    return corpus


def open_test(corpus, training: bool, attention_checks: int = 0):
    from mushra.services import SystemCondition, listening_test_create, listening_test_open
    from synth_workers.models import System

    test = listening_test_create(
        name="Listener load benchmark",
        slug=SLUG,
        corpus=corpus,
        systems=[SystemCondition(System.objects.get(name=name)) for name in SYSTEMS],
        trials_per_session=ITEMS,
        training=training,
        attention_checks=attention_checks,
        ratings_wanted=2_000_000_000,  # never "full": the crowd keeps coming
    )
    return listening_test_open(test=test)


def export_audio(test, out: Path) -> dict[str, list[str]]:
    """Each (item, condition) as the audio view sends it, named as pymushra's config uses it."""
    from mushra.models import ConditionStimulus
    from synth_workers.audio import encode_audio, read_audio

    names = {"reference": "reference", "anchor_low": "anchor35", "anchor_mid": "anchor70"}
    signals: dict[str, list[str]] = {}
    rows = ConditionStimulus.objects.filter(test=test).select_related(
        "condition__system", "utterance", "stimulus"
    )
    for row in rows:
        role = row.condition.role
        name = names.get(role) or row.condition.system.name
        with row.stimulus.audio.open("rb") as f:
            data = encode_audio(read_audio(f), fmt="wav", subtype="PCM_24")
        path = out / "audio" / row.utterance.key / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        signals.setdefault(row.utterance.key, []).append(name)
    return {key: sorted(names) for key, names in sorted(signals.items())}


def main() -> None:
    args = parse_args()
    import django

    from evalsite.var_dir import prepare_var_dir

    prepare_var_dir()  # the secret key and folders of the bench's fresh var/
    django.setup()
    from evalsite.launcher import prepare

    prepare(demo=False)
    with tempfile.TemporaryDirectory() as tmp:
        write_sources(Path(tmp), args.seconds)
        corpus = import_corpus(Path(tmp))
    test = open_test(corpus, args.training, args.attention_checks)
    signals = export_audio(test, args.out)
    print(json.dumps({"slug": test.slug, "test_id": test.pk, "signals": signals}))


if __name__ == "__main__":
    main()
