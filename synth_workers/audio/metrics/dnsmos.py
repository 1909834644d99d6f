"""DNSMOS P.835 (Microsoft's non-intrusive quality predictor, ONNX model shipped in `speechmos`).

A proxy, not a listening test: DNSMOS was trained on human P.835 ratings of noise-suppressed
telephone-band speech, so it tells noisy or distorted speech from clean speech well but ranks
clean synthetic voices against each other poorly. Report it beside listeners' scores, never in
their place. SIG rates the speech signal, BAK the background, OVRL the whole, on 1..5.

The computation is Microsoft's dnsmos_local.py as speechmos runs it: 9.01 s windows with a 1 s
hop (shorter audio is repeated until it fills one), the raw model outputs mapped through the
published polynomials, averaged over windows. speechmos's own entry point is not called because
it also computes the P.808 score through librosa (numba); only the P.835 model is loaded here.
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

from .base import MODEL_RATE, Metric, at_model_rate, package_folder

WINDOW_SECONDS = 9.01
HOP_SECONDS = 1.0
# DNSMOS P.835's mapping from raw outputs to MOS (non-personalised), highest power first, as in
# dnsmos_local.py of the DNS Challenge and speechmos 0.0.1.1's dnsmos.py.
SIG_POLY = np.poly1d([-0.08397278, 1.22083953, 0.0052439])
BAK_POLY = np.poly1d([-0.13166888, 1.60915514, -0.39604546])
OVRL_POLY = np.poly1d([-0.06766283, 1.11546468, 0.04602535])
_lock = threading.Lock()


def dnsmos_quality_proxy(samples: np.ndarray, sample_rate: int, **_context: object) -> dict:
    """DNSMOS P.835 quality proxy: ``sig``, ``bak`` and ``ovrl`` on 1..5 (means over 9 s windows),
    and ``windows``, the number of windows averaged."""
    audio = at_model_rate(samples, sample_rate, metric="DNSMOS quality proxy")
    length = int(WINDOW_SECONDS * MODEL_RATE)
    while audio.size < length:  # doubling, not tiling to length: the windows match speechmos's
        audio = np.concatenate([audio, audio])
    hops = int(np.floor(audio.size / MODEL_RATE) - WINDOW_SECONDS) + 1  # speechmos's count
    windows = np.stack([audio[i * MODEL_RATE : i * MODEL_RATE + length] for i in range(hops)])
    with _lock:
        raw = _session().run(None, {"input_1": windows.astype(np.float32)})[0]
    sig, bak, ovrl = SIG_POLY(raw[:, 0]), BAK_POLY(raw[:, 1]), OVRL_POLY(raw[:, 2])
    return {
        "sig": float(np.mean(sig)),
        "bak": float(np.mean(bak)),
        "ovrl": float(np.mean(ovrl)),
        "windows": int(hops),
    }


@cache
def _session():
    """The ONNX session, once per process, created from the model's bytes (nothing written).
    One intra-op thread so the scores do not depend on the core count."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    model = _model_files()[0].read_bytes()
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _model_files():
    return [package_folder("speechmos") / "dnsmos_models" / "sig_bak_ovr.onnx"]


METRIC = Metric(
    name="dnsmos_quality_proxy",
    function=dnsmos_quality_proxy,
    revision=1,
    distribution="speechmos",
    model_files=_model_files,
    description="DNSMOS P.835 SIG/BAK/OVRL (speechmos): a noise-suppression quality proxy, 1..5",
)
