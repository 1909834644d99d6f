"""downmix() policies and trim_silence()."""

import numpy as np
import pytest

from synth_workers.audio import Audio, AudioError, downmix, trim_silence
from tests.support.audio import sine


def stereo() -> Audio:
    left = sine(440, 48000, 0.5, amplitude=0.4)
    right = sine(660, 48000, 0.5, amplitude=0.2)
    return Audio(np.stack([left, right], axis=1), 48000)


def test_average_policy_gives_the_mean_of_the_channels():
    audio = stereo()
    mono = downmix(audio, "average")
    assert mono.channels == 1 and mono.frames == audio.frames
    np.testing.assert_allclose(mono.samples[:, 0], audio.samples.mean(axis=1), atol=1e-7)


def test_average_of_dual_mono_is_the_channel_itself():
    channel = sine(440, 48000, 0.5)
    mono = downmix(Audio(np.stack([channel, channel], axis=1), 48000))
    np.testing.assert_allclose(mono.samples[:, 0], channel, atol=1e-7)


def test_first_policy_keeps_the_first_channel():
    audio = stereo()
    np.testing.assert_array_equal(downmix(audio, "first").samples[:, 0], audio.samples[:, 0])


def test_refuse_policy_refuses_stereo():
    with pytest.raises(AudioError, match="2 channels and this test accepts only mono"):
        downmix(stereo(), "refuse")


@pytest.mark.parametrize("policy", ["average", "first", "refuse"])
def test_mono_passes_unchanged_whatever_the_policy(policy):
    mono = Audio(sine(440, 48000, 0.5), 48000)
    assert downmix(mono, policy) is mono


def test_unknown_policy_is_refused():
    with pytest.raises(AudioError, match="unknown downmix policy 'sum'"):
        downmix(stereo(), "sum")


def padded_tone(lead: float, tail: float, rate: int = 48000) -> Audio:
    tone = sine(300, rate, 1.0, amplitude=0.3)
    quiet = np.random.default_rng(0).standard_normal  # a noise floor at about -80 dBFS
    parts = [1e-4 * quiet(round(lead * rate)), tone, 1e-4 * quiet(round(tail * rate))]
    return Audio(np.concatenate(parts), rate)


def test_trim_drops_leading_and_trailing_silence_but_keeps_a_pad():
    trimmed = trim_silence(padded_tone(0.5, 0.7), threshold_db=-50, pad_seconds=0.05)
    assert trimmed.duration == pytest.approx(1.0 + 2 * 0.05, abs=0.011)
    # The tone starts 0.05 s in: the pad before it is the (quiet) original lead-in.
    onset = np.flatnonzero(np.abs(trimmed.samples[:, 0]) > 0.01)[0] / 48000
    assert onset == pytest.approx(0.05, abs=0.011)


def test_trim_keeps_audio_that_has_no_silence():
    audio = Audio(sine(300, 48000, 1.0, amplitude=0.3), 48000)
    assert trim_silence(audio).frames == audio.frames


def test_trim_pad_stays_within_the_file():
    trimmed = trim_silence(padded_tone(0.01, 0.0), pad_seconds=0.2)
    assert trimmed.duration == pytest.approx(1.01, abs=0.011)


def test_trim_of_audio_that_is_all_below_the_threshold_is_refused():
    with pytest.raises(AudioError, match=r"the file is silent \(no 10 ms stretch reaches -50 dBFS"):
        trim_silence(Audio(1e-4 * np.ones(48000), 48000))
