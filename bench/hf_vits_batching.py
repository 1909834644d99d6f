"""hf-vits: batched vs one-at-a-time synthesis throughput at a realistic model size.

    .venv/bin/python bench/hf_vits_batching.py [--device auto|cpu|cuda] [--n 32] [--batch 8]

The model is a transformers VitsModel with the default (MMS-TTS sized, ~36 M parameters) config
and random weights, written as safetensors with a character vocabulary and loaded through the
hf-vits backend, as a worker would. The same sentences are rendered once one request per call and
once in batches of --batch requests per call (one padded forward pass). Prints both rates and, last,
the ratio batched / one-at-a-time. Random weights make noise, not speech, but the same work.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synth_workers.backends import SynthRequest, get_backend  # noqa: E402
from synth_workers.harvard import HARVARD_SENTENCES  # noqa: E402

CHARACTERS = " abcdefghijklmnopqrstuvwxyz'.,?!-"


def write_model(folder: Path) -> dict[str, Path]:
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    vocab = {"<pad>": 0, **{c: i + 1 for i, c in enumerate(CHARACTERS)}}
    vocab["<unk>"] = len(vocab)
    torch.manual_seed(0)
    model = VitsModel(VitsConfig(vocab_size=len(vocab))).eval()
    with torch.no_grad():  # random weights saturate the final tanh
        model.decoder.conv_post.weight.mul_(0.05)
    model.save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    VitsTokenizer(str(folder / "vocab.json"), phonemize=False, add_blank=True).save_pretrained(
        folder
    )
    names = ("config.json", "model.safetensors", "vocab.json", "tokenizer_config.json")
    return dict(
        zip(
            ("config", "weights", "vocab", "tokenizer_config"),
            (folder / n for n in names),
            strict=True,
        )
    )


def timed(backend, requests: list[SynthRequest], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(requests), batch):
        backend.synthesize(requests[i : i + batch])
    if backend._device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    import torch

    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    requests = [
        SynthRequest(text=HARVARD_SENTENCES[i % len(HARVARD_SENTENCES)], seed=i)
        for i in range(args.n)
    ]
    with tempfile.TemporaryDirectory() as folder:
        backend = get_backend("hf-vits")()
        backend.load(write_model(Path(folder)), {}, device)
    params = sum(p.numel() for p in backend._model.parameters()) / 1e6
    timed(backend, requests[: args.batch], args.batch)  # warm-up (kernels, allocator)
    one = timed(backend, requests, 1)
    batched = timed(backend, requests, args.batch)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else "CPU"
    print(f"hf-vits, {params:.1f} M parameters (random weights), {args.n} sentences, {name}")
    print(f"{'mode':<28}{'seconds':>9}{'sentences/s':>13}")
    print(f"{'one at a time':<28}{one:>9.2f}{args.n / one:>13.2f}")
    print(f"{f'batches of {args.batch}':<28}{batched:>9.2f}{args.n / batched:>13.2f}")
    print(f"batched/one-at-a-time throughput ratio: {one / batched:.2f}")


if __name__ == "__main__":
    main()
