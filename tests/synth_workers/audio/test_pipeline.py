"""prepare(), prepare_anchors() and measure() under a policy, on synthetic and real audio."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from synth_workers.audio import (
    Audio,
    AudioError,
    PreparationPolicy,
    ValidationLimits,
    audio_chunks,
    integrated_loudness,
    measure,
    prepare,
    prepare_anchors,
    read_audio,
    write_audio,
)
from tests.support.audio import speech_like
from tests.support.paths import SHARED_DATASETS
from tests.support.services import need_shared_data

REAL_REFERENCE = SHARED_DATASETS / "codec-mushra" / "audio" / "stim_01" / "ref.wav"


def stereo_upload(rate: int = 44100, seconds: float = 2.0, silence: float = 0.0) -> Audio:
    pad = np.zeros(round(silence * rate))
    channels = [np.concatenate([pad, speech_like(rate, seconds, seed=s), pad]) for s in (1, 2)]
    return Audio(np.stack(channels, axis=1), rate)


def test_prepare_gives_mono_at_the_policy_rate_and_loudness():
    policy = PreparationPolicy(sample_rate=48000, target_lufs=-26.0)
    out = prepare(stereo_upload(44100), policy)
    assert (out.sample_rate, out.channels) == (48000, 1)
    assert out.frames == round(2.0 * 44100 * 48000 / 44100)
    assert integrated_loudness(out) == pytest.approx(-26.0, abs=0.1)


def test_prepare_trims_silence_when_the_policy_asks():
    upload = stereo_upload(48000, seconds=1.0, silence=0.5)
    assert prepare(upload, PreparationPolicy()).duration == pytest.approx(2.0)
    trimmed = prepare(upload, PreparationPolicy(trim_silence=True))
    assert trimmed.duration == pytest.approx(1.1, abs=0.02)


def test_prepare_validates_first():
    with pytest.raises(AudioError, match="the file is silent"):
        prepare(Audio(np.zeros((48000, 2)), 48000), PreparationPolicy())


def test_prepare_follows_the_downmix_policy():
    with pytest.raises(AudioError, match="accepts only mono"):
        prepare(stereo_upload(), PreparationPolicy(downmix="refuse"))


def test_anchors_are_loudness_normalised_like_every_stimulus():
    policy = PreparationPolicy()
    reference = prepare(stereo_upload(), policy)
    anchors = prepare_anchors(reference, policy)
    assert sorted(anchors) == ["anchor_35", "anchor_70"]
    for anchor in anchors.values():
        assert anchor.frames == reference.frames and anchor.sample_rate == 48000
        assert integrated_loudness(anchor) == pytest.approx(-23.0, abs=0.1)


def test_at_16_khz_the_mid_anchor_is_refused_and_the_low_anchor_alone_can_be_asked_for():
    policy = PreparationPolicy(sample_rate=16000)
    reference = prepare(stereo_upload(), policy)
    with pytest.raises(AudioError, match="7 kHz anchor needs a sample rate above 18000 Hz"):
        prepare_anchors(reference, policy)
    anchors = prepare_anchors(reference, policy, names=("anchor_35",))
    assert list(anchors) == ["anchor_35"]


def test_anchors_of_an_unprepared_reference_are_refused():
    with pytest.raises(AudioError, match="prepare the reference first"):
        prepare_anchors(stereo_upload(44100), PreparationPolicy())


def test_policy_key_is_stable_and_changes_with_every_field():
    base = PreparationPolicy()
    assert base.key() == PreparationPolicy().key()
    assert len(base.key()) == 16 and int(base.key(), 16) >= 0
    changes = {
        "sample_rate": 44100,
        "target_lufs": -24.0,
        "true_peak_ceiling": -2.0,
        "downmix": "first",
        "trim_silence": True,
        "fmt": "wav",
        "subtype": "PCM_16",
        "limits": ValidationLimits(max_duration=30.0),
    }
    assert set(changes) == {f.name for f in dataclasses.fields(PreparationPolicy)}
    keys = {dataclasses.replace(base, **{name: value}).key() for name, value in changes.items()}
    assert len(keys | {base.key()}) == len(changes) + 1


def test_policy_with_unknown_choices_is_refused():
    with pytest.raises(AudioError, match="unknown output format 'mp3'"):
        PreparationPolicy(fmt="mp3")
    with pytest.raises(AudioError, match="outside the accepted range"):
        PreparationPolicy(sample_rate=4000)


def test_measure_reports_what_was_prepared():
    out = prepare(stereo_upload(), PreparationPolicy())
    m = measure(out)
    assert (m.sample_rate, m.channels) == (48000, 1)
    assert m.duration == pytest.approx(2.0)
    assert m.loudness_lufs == pytest.approx(-23.0, abs=0.1)
    assert m.true_peak_dbtp <= -1.0


@pytest.mark.shared_data
def test_real_reference_is_prepared_with_both_anchors(tmp_path: Path):
    need_shared_data()
    if not REAL_REFERENCE.is_file():
        pytest.fail(f"{REAL_REFERENCE} is missing from the shared data set")
    policy = PreparationPolicy(sample_rate=48000)
    reference = prepare(read_audio(REAL_REFERENCE), policy)
    assert measure(reference).loudness_lufs == pytest.approx(-23.0, abs=0.1)
    anchors = prepare_anchors(reference, policy)
    for name, anchor in {"reference": reference, **anchors}.items():
        path = tmp_path / f"{name}.flac"
        write_audio(anchor, path, policy.fmt, policy.subtype)
        back = read_audio(path)
        assert audio_chunks(path) == ["STREAMINFO"]
        assert integrated_loudness(back) == pytest.approx(-23.0, abs=0.1), name
        assert back.frames == reference.frames
