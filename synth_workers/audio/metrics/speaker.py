"""Speaker embeddings with resemblyzer's GE2E voice encoder (256-d, weights in its wheel), and the
similarities built from them: to a target speaker, and distinctness from other voices.

The mel spectrogram is computed here with numpy instead of resemblyzer's librosa call: librosa
JIT-compiles numba code on first use (about 15 s per fresh environment) and writes numba cache
files into site-packages. The numpy version is the same computation (checked against librosa in
the tests): a centred, zero-padded periodic-Hann STFT and librosa's Slaney mel filter bank.
Preprocessing (volume normalisation, trimming long silences with webrtcvad) is resemblyzer's own.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from ..core import AudioError
from .base import MODEL_RATE, Metric, at_model_rate, package_folder

N_FFT = 400  # resemblyzer's 25 ms window at 16 kHz
HOP = 160  # its 10 ms step
N_MELS = 40
PARTIALS_PER_SECOND = 1.3  # resemblyzer's defaults for embed_utterance
MIN_COVERAGE = 0.75
MIN_SPEECH_SECONDS = 0.1  # below this the VAD left too little to describe a voice
_lock = threading.Lock()


def speaker_embedding(samples: np.ndarray, sample_rate: int, **_context: object) -> dict:
    """``embedding``: the utterance's 256-d speaker embedding (unit length, non-negative), the
    L2-normalised mean over 1.6 s partial windows as resemblyzer's ``embed_utterance`` makes it."""
    preprocessing = _resemblyzer_audio()
    wav = at_model_rate(samples, sample_rate, metric="speaker embedding")
    if float(np.max(np.abs(wav))) < 1e-4:  # volume normalisation would divide by zero
        raise AudioError("speaker embedding: the audio is silent, there is no voice to embed")
    wav = preprocessing.normalize_volume(
        wav, preprocessing.audio_norm_target_dBFS, increase_only=True
    )
    wav = preprocessing.trim_long_silences(wav)
    if wav.size < MIN_SPEECH_SECONDS * MODEL_RATE:
        raise AudioError("speaker embedding: no speech found (voice activity detection kept none)")
    encoder = _encoder()
    wav_slices, mel_slices = encoder.compute_partial_slices(
        wav.size, PARTIALS_PER_SECOND, MIN_COVERAGE
    )
    wav = np.pad(wav, (0, max(0, wav_slices[-1].stop - wav.size)))
    mel = mel_spectrogram(wav)
    embedding = _embed(encoder, np.array([mel[s] for s in mel_slices]))
    return {"embedding": [float(v) for v in embedding]}


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) power mel spectrogram, as librosa.feature.melspectrogram(y=wav, sr=16000,
    n_fft=400, hop_length=160, n_mels=40).T computes it (resemblyzer's wav_to_mel_spectrogram)."""
    padded = np.pad(wav.astype(np.float32), N_FFT // 2)
    frames = 1 + (padded.size - N_FFT) // HOP
    index = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    spectrum = np.fft.rfft(padded[index] * _window(), axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    return (power @ _mel_filters().T).astype(np.float32)


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine of the angle between two embeddings: 1 for the same direction."""
    x, y = _embedding(a), _embedding(b)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def mean_embedding(embeddings: Sequence[Sequence[float]]) -> np.ndarray:
    """A voice's embedding from several utterances: the L2-normalised mean (resemblyzer's
    ``embed_speaker``)."""
    rows = [_embedding(e) for e in embeddings]
    if not rows:
        raise AudioError("speaker similarity: a voice needs at least one embedding")
    mean = np.mean(rows, axis=0)
    return mean / np.linalg.norm(mean)


def speaker_similarity(
    embeddings: Sequence[Sequence[float]], reference_embeddings: Sequence[Sequence[float]]
) -> dict:
    """Similarity of each embedding to a target speaker (the mean of their reference embeddings,
    e.g. of their recordings): ``per_item`` cosines in input order and their ``mean``."""
    target = mean_embedding(reference_embeddings)
    per_item = [cosine_similarity(e, target) for e in embeddings]
    if not per_item:
        raise AudioError("speaker similarity: there are no embeddings to compare")
    return {"mean": float(np.mean(per_item)), "per_item": per_item}


def distinctness(
    embedding: Sequence[float], voices: Mapping[str, Sequence[Sequence[float]]]
) -> dict:
    """How close a (e.g. sampled) voice is to the nearest of other voices, each given by its
    utterances' embeddings: ``max_similarity`` (lower is more distinct), ``nearest_voice`` and
    the ``similarities`` to every voice."""
    if not voices:
        raise AudioError("distinctness: there are no other voices to compare with")
    similarities = {
        name: cosine_similarity(embedding, mean_embedding(rows)) for name, rows in voices.items()
    }
    nearest = max(similarities, key=lambda name: similarities[name])
    return {
        "max_similarity": similarities[nearest],
        "nearest_voice": nearest,
        "similarities": similarities,
    }


def _embedding(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if array.size == 0 or not np.all(np.isfinite(array)) or not np.any(array):
        raise AudioError("speaker similarity: an embedding is empty, zero or holds NaN")
    return array


def _embed(encoder, mels: np.ndarray) -> np.ndarray:
    import torch

    # One intra-op thread, restored after: the small LSTM gains little from more, and with
    # several worker processes on few cores their threads fight (measured 4-8x slower under
    # load); one thread also makes the value independent of the machine's core count.
    with _lock, torch.no_grad():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            partials = encoder(torch.from_numpy(mels)).numpy()
        finally:
            torch.set_num_threads(threads)
    mean = partials.mean(axis=0)
    return mean / np.linalg.norm(mean)


@cache
def _window() -> np.ndarray:
    # librosa's "hann" is scipy's periodic window (fftbins=True): the DFT-even form.
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


@cache
def _mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney's mel scale and area norm."""
    fft_hz = np.fft.rfftfreq(N_FFT, 1.0 / MODEL_RATE)
    mel_hz = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(MODEL_RATE / 2), N_MELS + 2))
    widths = np.diff(mel_hz)
    ramps = mel_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]
    return weights.astype(np.float32)


# Slaney's mel scale: linear (200/3 Hz per mel) below 1 kHz, logarithmic above.
_F_SP, _MIN_LOG_HZ, _LOG_STEP = 200.0 / 3, 1000.0, np.log(6.4) / 27.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP


def _hz_to_mel(hz: float) -> float:
    if hz < _MIN_LOG_HZ:
        return hz / _F_SP
    return _MIN_LOG_MEL + np.log(hz / _MIN_LOG_HZ) / _LOG_STEP


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    log_part = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mels - _MIN_LOG_MEL))
    return np.where(mels >= _MIN_LOG_MEL, log_part, _F_SP * mels)


@cache
def _resemblyzer_audio():
    """resemblyzer.audio (its preprocessing), imported without the DeprecationWarning its
    ``scipy.ndimage.morphology`` import raises on every import under scipy >= 1.8."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module="resemblyzer")
        from resemblyzer import audio

    return audio


@cache
def _encoder():
    """resemblyzer's VoiceEncoder on the CPU, once per process. Its checkpoint is read with
    torch.load's default, weights_only=True since torch 2.6 (DESIGN.md §5: no pickle)."""
    _resemblyzer_audio()
    from resemblyzer import VoiceEncoder

    return VoiceEncoder(device="cpu", verbose=False).eval()


def _model_files():
    return [package_folder("resemblyzer") / "pretrained.pt"]


METRIC = Metric(
    name="speaker_embedding",
    function=speaker_embedding,
    revision=1,
    distribution="Resemblyzer",
    model_files=_model_files,
    description="speaker embedding (resemblyzer GE2E, 256-d) for similarity and distinctness",
)
