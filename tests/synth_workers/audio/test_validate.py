"""validate(): one plain reason per refusal, the first problem found."""

import numpy as np
import pytest

from synth_workers.audio import Audio, AudioError, ValidationLimits, validate
from tests.support.audio import sine


def tone(rate: int = 48000, seconds: float = 1.0, amplitude: float = 0.5, channels: int = 1):
    return Audio(np.tile(sine(440, rate, seconds, amplitude)[:, None], (1, channels)), rate)


def test_ordinary_speech_rate_audio_passes():
    validate(tone(rate=16000, channels=2))


def test_too_low_sample_rate_is_refused():
    with pytest.raises(AudioError, match=r"^sample rate 4000 Hz is below the minimum of 8000 Hz$"):
        validate(tone(rate=4000))


def test_too_high_sample_rate_is_refused():
    with pytest.raises(AudioError, match=r"sample rate 384000 Hz is above the maximum of 192000"):
        validate(tone(rate=384000, seconds=0.3))


def test_too_short_audio_is_refused():
    with pytest.raises(AudioError, match=r"lasts 0\.100 s, shorter than the minimum of 0\.2 s"):
        validate(tone(seconds=0.1))


def test_too_long_audio_is_refused():
    with pytest.raises(AudioError, match=r"lasts 61\.0 s, longer than the maximum of 60 s"):
        validate(tone(rate=8000, seconds=61))


def test_more_channels_than_allowed_is_refused():
    with pytest.raises(AudioError, match=r"the file has 6 channels; at most 2 are accepted"):
        validate(tone(channels=6))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples_are_refused(bad):
    samples = sine(440, 48000, 1.0)
    samples[[10, 20, 30]] = bad
    with pytest.raises(AudioError, match=r"contains 3 NaN or infinite sample values"):
        validate(Audio(samples, 48000))


def test_digital_silence_is_refused():
    with pytest.raises(AudioError, match=r"^the file is silent \(every sample is zero\)$"):
        validate(Audio(np.zeros(48000), 48000))


def test_audio_below_the_silence_threshold_is_refused():
    quiet = tone(amplitude=10 ** (-70 / 20))
    with pytest.raises(AudioError, match=r"the file is silent \(peak -70\.0 dBFS, below the -60"):
        validate(quiet)


def test_heavily_clipped_audio_is_refused_with_the_fraction():
    samples = sine(440, 48000, 1.0, amplitude=0.5)
    samples[: int(0.032 * samples.size)] = 1.0
    with pytest.raises(AudioError, match=r"^3\.2 % of samples are clipped \(limit 1 %\)$"):
        validate(Audio(samples, 48000))


def test_a_few_clipped_samples_are_accepted():
    samples = sine(440, 48000, 1.0, amplitude=0.5)
    samples[:100] = -1.0  # 0.2 %
    validate(Audio(samples, 48000))


def test_limits_can_be_set_per_test():
    limits = ValidationLimits(min_rate=16000, max_channels=1)
    with pytest.raises(AudioError, match="below the minimum of 16000 Hz"):
        validate(tone(rate=8000), limits)
    with pytest.raises(AudioError, match="at most 1 are accepted"):
        validate(tone(channels=2), limits)


def test_the_first_problem_is_reported():
    samples = np.full((100, 3), np.nan)  # wrong rate, too short, 3 channels and NaN
    with pytest.raises(AudioError, match="sample rate 1000 Hz"):
        validate(Audio(samples, 1000))
