"""Tiny model files for the torch backends' tests (and the worker's integration tests).

Real checkpoints are hundreds of megabytes and would need a download, so these factories write
randomly initialised models small enough to build in well under a second. They exercise every
code path of the backends (tokenizer, batching, noise, speakers, durations), but their audio is
noise-like, not speech. One model per folder: files have fixed names and are overwritten.

No ``from __future__ import annotations`` here: TorchScript reads SineVoice's annotations.
"""

import json
import math
import warnings
from pathlib import Path

import torch

VITS_CHARACTERS = " abcdefghijklmnopqrstuvwxyz'.,?!-"
TINY_SAMPLE_RATE = 16000


def tiny_vits_files(
    folder: Path, *, num_speakers: int = 1, seed: int = 0, hidden_size: int = 16
) -> dict[str, Path]:
    """A random-init transformers VitsModel (character vocabulary, no phonemizer), saved as the
    hf-vits backend's four files: role -> path. 16 kHz, 16 samples per spectrogram frame."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"<pad>": 0, **{c: i + 1 for i, c in enumerate(VITS_CHARACTERS)}}
    vocab["<unk>"] = len(vocab)
    config = VitsConfig(
        **_tiny_vits_sizes(hidden_size),
        vocab_size=len(vocab),
        num_speakers=num_speakers,
        speaker_embedding_size=8 if num_speakers > 1 else 0,
        sampling_rate=TINY_SAMPLE_RATE,
    )
    with torch.random.fork_rng(devices=[]):  # leave the caller's global generator alone
        torch.manual_seed(seed)
        model = VitsModel(config).eval()
        with torch.no_grad():  # random weights saturate the final tanh; keep the audio in range
            model.decoder.conv_post.weight.mul_(0.05)
    model.save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = VitsTokenizer(
        str(folder / "vocab.json"), phonemize=False, normalize=True, add_blank=True
    )
    tokenizer.save_pretrained(folder)
    return {
        "config": folder / "config.json",
        "weights": folder / "model.safetensors",
        "vocab": folder / "vocab.json",
        "tokenizer_config": folder / "tokenizer_config.json",
    }


def _tiny_vits_sizes(hidden_size: int) -> dict:
    return {
        "hidden_size": hidden_size,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "window_size": 2,
        "ffn_dim": 2 * hidden_size,
        "flow_size": hidden_size,
        "spectrogram_bins": 17,
        "upsample_initial_channel": 16,
        "upsample_rates": [4, 4],
        "upsample_kernel_sizes": [8, 8],
        "resblock_kernel_sizes": [3],
        "resblock_dilation_sizes": [[1, 3]],
        "duration_predictor_filter_channels": 16,
        "duration_predictor_num_flows": 1,
        "depth_separable_num_layers": 1,
        "prior_encoder_num_flows": 2,
        "prior_encoder_num_wavenet_layers": 1,
        "posterior_encoder_num_wavenet_layers": 1,
    }


class SineVoice(torch.nn.Module):
    """The torchscript backend's module contract in its simplest form: a sine at
    220 Hz * (speaker + 1), 50 ms per character divided by ``speed``, amplitude 0.5 (0.8 for the
    style "loud"). Language and seed are accepted and ignored."""

    sample_rate: int

    def __init__(self, sample_rate: int = TINY_SAMPLE_RATE) -> None:
        super().__init__()
        self.sample_rate = sample_rate

    @torch.jit.export
    def synthesize(
        self, text: str, speaker: int, style: str, language: str, speed: float, seed: int
    ) -> torch.Tensor:
        frames = int(len(text) * 0.05 * self.sample_rate / speed)
        t = torch.arange(frames, dtype=torch.float32) / self.sample_rate
        amplitude = 0.8 if style == "loud" else 0.5
        return amplitude * torch.sin(2 * math.pi * 220.0 * (speaker + 1) * t)

    def forward(self, text: str) -> torch.Tensor:
        return self.synthesize(text, 0, "", "en", 1.0, 0)


def tiny_torchscript_file(folder: Path, module: torch.nn.Module | None = None) -> Path:
    """``module`` (default: a SineVoice) scripted and saved with torch.jit.save."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "voice.pt"
    with warnings.catch_warnings():  # torch.jit is deprecated in favour of torch.export
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module or SineVoice()), str(path))
    return path
