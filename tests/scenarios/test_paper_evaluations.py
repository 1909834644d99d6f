"""One scenario per seed evaluation (issue 13, item 7), each through the real worker on a few
sentences and each ending in its headline figure as the platform computes it:

1. prosody transfer to a target voice, copy-synthesis as the top → gap closure (CopyCat2);
2. a system's F0 distribution against the target speaker's → Wasserstein distance (low-data);
3. one voice in two languages and two styles → per-style relative improvement with its
   significance from one test, and speaker similarity to the voice's own recordings in both
   languages (LCPVAE);
4. sampled voices → listener means and distinctness from the training voices (flow voices);
5. baseline vs proposed vs recordings → relative improvement with CI and Holm-corrected
   Wilcoxon p (Kathaka / CAMP).

Listeners are simulated (``kit.rate``: each condition at a known mean, ± 3 by listener), so each
headline has a known value; the audio, its preparation and the metrics are real. README
"Recipes" walks the same five on the site.
"""

import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from mushra.results import ReportOptions, report_dict
from mushra.results import listening_test_analysis as analysis_of
from mushra.services import SystemCondition
from synth_workers import audio
from synth_workers.audio.prosody import pyworld
from synth_workers.backends import SynthRequest, joe_voice_files
from synth_workers.harvard import HARVARD_SENTENCES
from synth_workers.models import Stimulus
from synth_workers.services import rendered_import
from tests.support.scenarios import (
    import_corpus,
    measure,
    open_test,
    rate,
    register,
    render_here,
    synthesize,
    wait_rendered,
    wait_usable,
)

pytestmark = pytest.mark.slow


def english(n: int) -> list[dict]:
    return [
        {"key": f"h{i + 1:02d}", "text": text, "language": "en-us"}
        for i, text in enumerate(HARVARD_SENTENCES[:n])
    ]


def joe_recordings(rows: list[dict], **controls) -> dict:
    """Stand-in recordings of the target speaker: the Piper voice "joe" (as the demo's)."""
    requests = [SynthRequest(text=r["text"], controls=controls) for r in rows]
    clips = render_here("piper", joe_voice_files(), {}, requests)
    return {r["key"]: clip for r, clip in zip(rows, clips, strict=True)}


def copy_synthesis(clip: audio.Audio) -> audio.Audio:
    """The recording through WORLD analysis and resynthesis: the vocoder's ceiling."""
    pw = pyworld()
    x = clip.samples[:, 0].astype(np.float64)
    f0, sp, ap = pw.wav2world(x, clip.sample_rate)
    y = pw.synthesize(f0, sp, ap, clip.sample_rate)[: len(x)]
    return audio.Audio((0.9 * y / max(1e-9, np.abs(y).max())).astype(np.float32), clip.sample_rate)


def _pair(pairwise: list[dict], a: str, b: str) -> dict:
    (pair,) = [p for p in pairwise if {p["a"], p["b"]} == {a, b}]
    return pair


def test_copycat2_prosody_transfer_closes_the_gap_to_copy_synthesis(
    transactional_db, worker_media, tmp_path
):
    rows = english(3)
    recordings = joe_recordings(rows)
    expressive = [SynthRequest(text=r["text"], style="excited") for r in rows]
    references = dict(zip(recordings, render_here("espeak-ng", {}, {}, expressive), strict=True))
    corpus = import_corpus(
        tmp_path / "corpus",
        "CopyCat2",
        rows,
        {"recording": recordings, "prosody_reference": references},
    )
    target = register(name="Target voice (Piper joe)", backend="piper", files=joe_voice_files())
    wait_usable(target)  # a transfer system is built on a usable base
    transfer = register(
        name="Prosody transfer (WORLD)",
        backend="world-prosody-transfer",
        config={"base_system": target.name},
    )
    wait_usable(transfer)
    jobs = [synthesize(target, corpus, use_prosody_reference=False), synthesize(transfer, corpus)]
    for key, clip in recordings.items():
        audio.write_audio(copy_synthesis(clip), tmp_path / "copy" / f"{key}.flac")
    copy = rendered_import(
        corpus=corpus, system_name="Copy-synthesis (WORLD)", audio_path=tmp_path / "copy"
    ).system
    wait_rendered(corpus, *jobs)

    test = open_test(
        corpus,
        "copycat2",
        [
            SystemCondition(target, label="Baseline"),
            SystemCondition(transfer, label="Proposed"),
            SystemCondition(copy, label="Copy-synthesis"),
        ],
    )
    rate(test, {"Baseline": 50, "Proposed": 62, "Copy-synthesis": 80})
    gaps = (
        ("Proposed", "Baseline", "Copy-synthesis"),
        ("Proposed", "Baseline", "Hidden reference"),
    )
    data = report_dict(test, analysis_of(test, ReportOptions(gaps=gaps, n_boot=500)))

    to_copy, to_recordings = data["gaps"]
    assert to_copy["top"] == "Copy-synthesis"
    # G = (62 − 50) / (80 − 50): the transfer closes 40 % of the gap to copy-synthesis …
    assert to_copy["gap_closure_pct"] == pytest.approx(40.0)
    assert to_copy["gap_closure_ci95"][0] > 0
    # … and 12 / 45 of the gap to the recordings themselves.
    assert to_recordings["gap_closure_pct"] == pytest.approx(100 * 12 / 45)
    transferred = Stimulus.objects.filter(system=transfer)
    assert {s.provenance["backend"] for s in transferred} == {"world-prosody-transfer"}


def test_low_data_f0_distribution_is_measured_against_the_target_speaker(
    transactional_db, worker_media, tmp_path
):
    rows = english(3)
    recordings = joe_recordings(rows)
    # The target's own recordings as the prosody references: the "low-data" voice copies the
    # target's melody at its own pitch (shift_to_median off), the other voice does not.
    corpus = import_corpus(
        tmp_path / "corpus",
        "Low-data",
        rows,
        {"recording": recordings, "prosody_reference": recordings},
    )
    other = register(name="espeak-ng", backend="espeak-ng")
    wait_usable(other)
    low_data = register(
        name="Low-data voice",
        backend="world-prosody-transfer",
        config={"base_system": other.name, "shift_to_median": False},
    )
    wait_usable(low_data)
    jobs = [
        synthesize(other, corpus, use_prosody_reference=False, controls={"pitch": 85}),
        synthesize(low_data, corpus),
    ]
    wait_rendered(corpus, *jobs)

    test = open_test(
        corpus,
        "low-data",
        [SystemCondition(low_data), SystemCondition(other, label="Other voice")],
    )
    rate(test, {"Low-data voice": 55, "Other voice": 45})
    measure(test, ["f0"])
    data = report_dict(test, analysis_of(test, ReportOptions(n_boot=200)))

    f0 = data["objective"]["f0"]
    assert f0["target"] == "Hidden reference"
    rows_by = {r["condition"]: r for r in f0["rows"]}
    near, far = rows_by["Low-data voice"], rows_by["Other voice"]
    assert np.isfinite([near["wasserstein_st"], far["wasserstein_st"]]).all()
    assert 0 <= near["wasserstein_st"] < far["wasserstein_st"]
    assert near["jensen_shannon"] < far["jensen_shannon"]


KUMO_ROWS = [
    {"key": "ja1", "text": "おはようございます。", "language": "ja"},
    {"key": "ja2", "text": "ありがとうございました。", "language": "ja"},
    {"key": "en1", "text": "Glue the sheet.", "language": "en-us"},
    {"key": "en2", "text": "The birch canoe slid.", "language": "en-us"},
]
STYLE_MEANS = {"neutral": (50, 60), "excited": (40, 46)}  # (Baseline, Proposed) per style


def test_lcpvae_per_style_improvement_and_cross_lingual_similarity_from_one_test(
    transactional_db, worker_media, tmp_path
):
    # The voice: Kokoro's Japanese pack jm_kumo; its "recordings" (a stand-in, a little slower)
    # in Japanese and English are the prosody references too.
    requests = [
        SynthRequest(text=r["text"], language=r["language"], controls={"speed": 0.9})
        for r in KUMO_ROWS
    ]
    clips = render_here("kokoro", {}, {"default_voice": "jm_kumo"}, requests)
    recordings = {r["key"]: clip for r, clip in zip(KUMO_ROWS, clips, strict=True)}
    corpus = import_corpus(
        tmp_path / "corpus",
        "LCPVAE",
        KUMO_ROWS,
        {"recording": recordings, "prosody_reference": recordings},
    )
    baseline = register(name="espeak-ng", backend="espeak-ng")
    voice = register(name="Kokoro (jm_kumo)", backend="kokoro", config={"default_voice": "jm_kumo"})
    wait_usable(baseline)
    proposed = register(
        name="Styled transfer (espeak-ng + WORLD)",
        backend="world-prosody-transfer",
        config={"base_system": baseline.name},
    )
    wait_usable(proposed, voice)
    styles = {"style": list(STYLE_MEANS)}
    jobs = [
        synthesize(baseline, corpus, grid=styles, use_prosody_reference=False),
        synthesize(proposed, corpus, grid=styles),
        synthesize(voice, corpus, use_prosody_reference=False),
    ]
    wait_rendered(corpus, *jobs)

    conditions, means = [SystemCondition(voice, label="Voice (jm_kumo)")], {"Voice (jm_kumo)": 70}
    for style, (base_mean, new_mean) in STYLE_MEANS.items():
        for system, name, mean in (
            (baseline, "Baseline", base_mean),
            (proposed, "Proposed", new_mean),
        ):
            label = f"{name} · style={style}"
            conditions.append(SystemCondition(system, {"style": style}, label=label))
            means[label] = mean
    test = open_test(corpus, "lcpvae", conditions)
    rate(test, means)
    measure(test, ["speaker_embedding"])

    out = tmp_path / "report"
    gaps = [f"Proposed · style={s}:Baseline · style={s}:Hidden reference" for s in STYLE_MEANS]
    call_command(
        "report", test.slug, "--out", str(out), "--by", "condition_style",
        *[a for g in gaps for a in ("--gap", g)],
        "--bootstrap", "500", "--format", "json", "--format", "csv",
    )  # fmt: skip
    data = json.loads((out / "analysis.json").read_text())
    strata = {s["value"]: s for s in data["strata"] if s["by"] == "condition_style"}
    assert set(strata) == set(STYLE_MEANS)
    for style, (base_mean, new_mean) in STYLE_MEANS.items():
        stratum = strata[style]
        assert {"Hidden reference", "Voice (jm_kumo)"} <= set(stratum["shared_conditions"])
        (gap,) = stratum["gaps"]
        # R = (60 − 50)/50 = 20 % in neutral, (46 − 40)/40 = 15 % excited
        assert gap["relative_improvement_pct"] == pytest.approx(100 * (new_mean / base_mean - 1))
        assert gap["relative_improvement_ci95"][0] > 0
        pair = _pair(stratum["pairwise"], f"Proposed · style={style}", f"Baseline · style={style}")
        assert pair["significant"] and pair["p_holm"] < 0.05
        assert pair["n_pairs"] == 4 * len(KUMO_ROWS)

    # Speaker similarity to the voice's own recordings, per language of the rated sentence: each
    # rating of the tidy CSV carries its stimulus' metrics.
    tidy = pd.read_csv(out / "ratings.csv")
    similarity = tidy.groupby(["condition", "utterance_language"])["metric_speaker_similarity"]
    similarity = similarity.mean().unstack()
    assert set(similarity.columns) == {"ja", "en-us"}
    voice_row, other_row = (
        similarity.loc["Voice (jm_kumo)"],
        similarity.loc["Baseline · style=neutral"],
    )
    assert np.isfinite(voice_row).all() and (voice_row < 1).all()
    assert (voice_row > other_row).all()  # the voice is itself in either language; espeak is not
    objective = {r["condition"]: r for r in data["objective"]["table"]}
    assert objective["Voice (jm_kumo)"]["speaker_similarity_n"] == len(KUMO_ROWS)


SAMPLED = ("sampled:1", "sampled:2")
TRAINING = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")  # the packs


def test_sampled_voices_are_rated_and_measured_against_the_training_voices(
    transactional_db, worker_media, tmp_path
):
    rows = [
        {"key": "s1", "text": "Glue the sheet.", "language": "en-us"},
        {"key": "s2", "text": "Rice is served.", "language": "en-us"},
    ]
    corpus = import_corpus(
        tmp_path / "corpus", "Flow voices", rows, {"recording": joe_recordings(rows)}
    )
    kokoro = register(name="Kokoro-82M", backend="kokoro")
    wait_usable(kokoro)
    job = synthesize(kokoro, corpus, grid={"speaker": [*SAMPLED, *TRAINING]})
    wait_rendered(corpus, job)

    means = {f"Kokoro-82M · speaker={s}": m for s, m in zip(SAMPLED, (62, 54), strict=True)}
    means["Kokoro-82M · speaker=jf_alpha"] = 66
    conditions = [SystemCondition(kokoro, {"speaker": s}) for s in (*SAMPLED, "jf_alpha")]
    test = open_test(corpus, "flow-voices", conditions)
    rate(test, means)
    measure(test, ["speaker_embedding"])
    data = report_dict(test, analysis_of(test, ReportOptions(n_boot=200)))

    listener = {c["condition"]: c["mean"] for c in data["conditions"]}
    for label, mean in means.items():
        assert listener[label] == pytest.approx(mean)
    distinct = data["objective"]["distinctness"]
    assert distinct["training_voices"] == len(TRAINING)  # the named voices rendered on the corpus
    assert distinct["spread"]["pairs"] == 10  # their similarities to each other, for scale
    rows_by = {r["condition"]: r for r in distinct["rows"]}
    assert set(rows_by) == {f"Kokoro-82M · speaker={s}" for s in SAMPLED}
    for row in rows_by.values():
        assert row["nearest_voice"] in {f"Kokoro-82M / {v}" for v in TRAINING}
        assert 0 < row["max_similarity"] < 1
    blends = Stimulus.objects.filter(system=kokoro, condition__speaker="sampled:1")
    assert len(blends) == len(rows) and all(s.provenance["sampled_voice"] for s in blends)


def test_kathaka_relative_improvement_over_the_baseline_is_significant(
    transactional_db, worker_media, tmp_path, client, admin_user
):
    rows = english(3)
    # The recordings: joe with more voice-quality noise than the proposed system renders with.
    corpus = import_corpus(
        tmp_path / "corpus", "Kathaka", rows, {"recording": joe_recordings(rows, noise_scale=0.9)}
    )
    baseline = register(name="espeak-ng", backend="espeak-ng")
    proposed = register(name="Piper (joe)", backend="piper", files=joe_voice_files())
    wait_usable(baseline, proposed)
    wait_rendered(corpus, synthesize(baseline, corpus), synthesize(proposed, corpus))

    test = open_test(
        corpus,
        "kathaka",
        [SystemCondition(baseline, label="Baseline"), SystemCondition(proposed, label="Proposed")],
    )
    rate(test, {"Baseline": 50, "Proposed": 57})
    client.force_login(admin_user)
    options = {"new": "Proposed", "base": "Baseline", "top": "Hidden reference"}
    response = client.get(f"/mushra/tests/{test.pk}/results/analysis.json", options)
    assert response.status_code == 200
    data = json.loads(response.content)

    (gap,) = data["gaps"]
    assert gap["relative_improvement_pct"] == pytest.approx(14.0)  # (57 − 50) / 50
    low, high = gap["relative_improvement_ci95"]
    assert 0 < low <= 14.0 <= high
    pair = _pair(data["pairwise"], "Proposed", "Baseline")
    assert pair["n_pairs"] == 4 * len(rows)
    assert pair["significant"] and pair["p_holm"] < 0.01
