"""The ACR trap clip (P.808): the sample's start, a pause, then the spoken instruction at the
sample's loudness; always the same bytes for the same inputs."""

import io

import numpy as np
import pytest

from synth_workers.audio import Audio, AudioError, encode_audio, integrated_loudness, read_audio
from synth_workers.audio.trap import GAP_SECONDS, LEAD_SECONDS, trap_clip, trap_clip_flac
from tests.support.audio import speech_like

RATE = 48_000


def voice(seconds: float = 2.5, rate: int = 22_050) -> Audio:
    """A stand-in for the spoken instruction, at espeak-ng's rate."""
    return Audio(speech_like(rate, seconds, seed=7, level=0.1), rate)


def test_the_clip_is_the_samples_start_a_pause_and_the_instruction_at_its_loudness():
    source = Audio(speech_like(RATE, 3.0, seed=3, level=0.3), RATE)
    spoken = voice()
    clip = trap_clip(source, spoken)
    lead, gap = int(LEAD_SECONDS * RATE), int(GAP_SECONDS * RATE)
    assert clip.sample_rate == RATE and clip.channels == source.channels
    assert clip.frames == lead + gap + round(spoken.duration * RATE)
    assert np.array_equal(clip.samples[:lead], source.samples[:lead])
    assert not clip.samples[lead : lead + gap].any()
    said = Audio(clip.samples[lead + gap :], RATE)
    assert integrated_loudness(said) == pytest.approx(integrated_loudness(source), abs=0.5)


def test_the_same_inputs_give_the_same_flac_in_the_stimulus_format():
    source = Audio(speech_like(RATE, 2.0, seed=4, level=0.3), RATE)
    data = encode_audio(source, "flac", "PCM_24")
    first, second = trap_clip_flac(data, voice()), trap_clip_flac(data, voice())
    assert first == second and first.startswith(b"fLaC")
    decoded = read_audio(io.BytesIO(first))
    assert decoded.sample_rate == RATE and decoded.duration > LEAD_SECONDS + GAP_SECONDS + 2


def test_a_silent_instruction_is_refused_in_plain_words():
    source = Audio(speech_like(RATE, 2.0, seed=4, level=0.3), RATE)
    with pytest.raises(AudioError, match="spoken instruction of a trap clip is silent"):
        trap_clip(source, Audio(np.zeros(1000), 22_050))
