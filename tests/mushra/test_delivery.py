"""The listener's copy of a FLAC stimulus: same samples, any size at or above the smallest."""

import io

import numpy as np
import pytest

from synth_workers.audio import Audio, AudioError, encode_audio, read_audio
from synth_workers.audio.containers import (
    container_chunks,
    flac_for_listeners,
    flac_listener_size,
)


def _flac(seconds: float, cutoff_noise: bool) -> bytes:
    rng = np.random.default_rng(1)
    n = int(48000 * seconds)
    samples = rng.normal(0, 0.1, n) if cutoff_noise else 0.1 * np.sin(np.arange(n) / 20)
    return encode_audio(Audio(samples.astype(np.float32)[:, None], 48000), fmt="flac")


def test_padded_copies_decode_to_the_same_samples_at_the_size_asked():
    noisy, tonal = _flac(1.0, True), _flac(1.0, False)
    target = max(flac_listener_size(noisy), flac_listener_size(tonal)) + 17
    for data in (noisy, tonal):
        padded = flac_for_listeners(data, target)
        assert len(padded) == target
        assert container_chunks(padded) == ["STREAMINFO", "PADDING"]
        sent, kept = read_audio(io.BytesIO(padded)), read_audio(io.BytesIO(data))
        assert np.array_equal(sent.samples, kept.samples)
    # Without padding the sizes would tell the compressible signal from the other.
    assert flac_listener_size(tonal) < flac_listener_size(noisy)


def test_a_size_below_the_smallest_is_refused():
    data = _flac(0.5, True)
    with pytest.raises(AudioError, match="cannot pad"):
        flac_for_listeners(data, flac_listener_size(data) - 1)
