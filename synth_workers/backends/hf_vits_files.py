"""hf-vits registration checks in pure Python (no torch, no transformers): the web process runs
them on every upload, so they must be cheap and must never load weights.

The JSON files are parsed with size bounds, the safetensors header is read without the weights,
and config and weights must fit (vocabulary size, speakers, the model's parts).
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path
from typing import Any

from .errors import BackendError

MAX_JSON_BYTES = 5_000_000
MAX_HEADER_BYTES = 100_000_000
SAMPLE_RATES = (8000, 192_000)
# VitsConfig's own defaults for the fields read here: a config.json may leave them out.
CONFIG_DEFAULTS: dict[str, Any] = {
    "vocab_size": 38,
    "hidden_size": 192,
    "num_speakers": 1,
    "speaker_embedding_size": 0,
    "sampling_rate": 16000,
    "speaking_rate": 1.0,
    "noise_scale": 0.667,
    "noise_scale_duration": 0.8,
}
TOKEN_EMBEDDING = "text_encoder.embed_tokens.weight"
SPEAKER_EMBEDDING = "embed_speaker.weight"
MODEL_PARTS = ("text_encoder.", "duration_predictor.", "flow.", "decoder.")
SCALE_KEYS = ("speaking_rate", "noise_scale", "noise_scale_duration")


# -- file checks (pure Python: no torch, no transformers) -----------------------------------------
def read_json(path: Path, role: str) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise BackendError(f"{role} file '{path.name}' is larger than {MAX_JSON_BYTES} bytes")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackendError(f"{role} file '{path.name}' is not valid UTF-8 JSON ({exc})") from exc


def read_model_config(path: Path) -> dict[str, Any]:
    """config.json with the fields used here checked and VitsConfig's defaults filled in."""
    raw = read_json(path, "config")
    if not isinstance(raw, dict) or raw.get("model_type") != "vits":
        found = raw.get("model_type") if isinstance(raw, dict) else None
        raise BackendError(
            f"config file '{path.name}' must be a JSON object with model_type 'vits' "
            f"(a transformers VitsModel config), got model_type {found!r}"
        )
    config = {**CONFIG_DEFAULTS, **raw}
    for key in ("vocab_size", "hidden_size", "num_speakers", "speaker_embedding_size"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise BackendError(f"config file '{path.name}': {key} must be a whole number >= 0")
    rate = config["sampling_rate"]
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int)
        or not (SAMPLE_RATES[0] <= rate <= SAMPLE_RATES[1])
    ):
        raise BackendError(
            f"config file '{path.name}': sampling_rate {rate!r} is not a plausible sample rate "
            f"({SAMPLE_RATES[0]} to {SAMPLE_RATES[1]} Hz)"
        )
    if config["num_speakers"] < 1:
        raise BackendError(f"config file '{path.name}': num_speakers must be at least 1")
    for key in SCALE_KEYS:
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            raise BackendError(f"config file '{path.name}': {key} must be a number >= 0")
    if config["speaking_rate"] == 0:
        raise BackendError(f"config file '{path.name}': speaking_rate must be above 0")
    return config


def read_safetensors_header(path: Path) -> dict[str, dict]:
    """Tensor name -> {dtype, shape, data_offsets}, from the header alone (no weights read).

    Layout: an 8-byte little-endian header length, that many bytes of JSON, then the data."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if not 2 <= length <= min(MAX_HEADER_BYTES, size - 8):
            raise BackendError(f"weights file '{path.name}' is not a safetensors file")
        raw = f.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackendError(f"weights file '{path.name}' is not a safetensors file") from exc
    if not isinstance(header, dict):
        raise BackendError(f"weights file '{path.name}' is not a safetensors file")
    header.pop("__metadata__", None)
    data_size = size - 8 - length
    for name, entry in header.items():
        if not _valid_entry(entry, data_size):
            raise BackendError(
                f"weights file '{path.name}': tensor '{name}' has a malformed or out-of-file "
                "entry in the safetensors header (truncated or not a safetensors file)"
            )
    return header


def _valid_entry(entry: Any, data_size: int) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("dtype"), str):
        return False
    shape, offsets = entry.get("shape"), entry.get("data_offsets")
    ints = [*(shape or []), *(offsets or [])]
    if not isinstance(shape, list) or not isinstance(offsets, list) or len(offsets) != 2:
        return False
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in ints):
        return False
    return offsets[0] <= offsets[1] <= data_size


def check_weights_fit(config: dict, header: dict[str, dict], weights: str, cfg: str) -> None:
    """The tensors the config implies exist with the shapes it implies."""
    for part in MODEL_PARTS:
        if not any(name.startswith(part) for name in header):
            raise BackendError(
                f"weights file '{weights}' has no '{part[:-1]}' tensors; it is not a VitsModel"
            )
    vocab, hidden = config["vocab_size"], config["hidden_size"]
    why = f"vocab_size {vocab} and hidden_size {hidden}"
    _expect_shape(header, TOKEN_EMBEDDING, [vocab, hidden], why, weights, cfg)
    speakers = config["num_speakers"]
    if speakers > 1:
        size = config["speaker_embedding_size"]
        why = f"num_speakers {speakers} and speaker_embedding_size {size}"
        _expect_shape(header, SPEAKER_EMBEDDING, [speakers, size], why, weights, cfg)
    elif SPEAKER_EMBEDDING in header:
        count = (header[SPEAKER_EMBEDDING]["shape"] or ["?"])[0]
        raise BackendError(
            f"config file '{cfg}' says num_speakers is 1, but weights file '{weights}' has a "
            f"speaker embedding ('{SPEAKER_EMBEDDING}') for {count} speakers"
        )


def _expect_shape(
    header: dict, tensor: str, shape: list[int], why: str, weights: str, cfg: str
) -> None:
    if tensor not in header:
        raise BackendError(
            f"weights file '{weights}' has no tensor '{tensor}', which config file '{cfg}' "
            f"implies ({why})"
        )
    if header[tensor]["shape"] != shape:
        raise BackendError(
            f"config file '{cfg}' ({why}) does not fit weights file '{weights}': tensor "
            f"'{tensor}' has shape {header[tensor]['shape']}, expected {shape}"
        )


def check_vocab(vocab: Any, vocab_size: int, name: str) -> None:
    if not isinstance(vocab, dict) or not vocab:
        raise BackendError(f"vocab file '{name}' must be a non-empty JSON object (token -> id)")
    for token, token_id in vocab.items():
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            raise BackendError(f"vocab file '{name}': the id of {token!r} must be a whole number")
        if not 0 <= token_id < vocab_size:
            raise BackendError(
                f"vocab file '{name}': {token!r} has id {token_id}, but the config's vocab_size "
                f"is {vocab_size} (ids 0 to {vocab_size - 1})"
            )


def check_tokenizer_config(tokenizer_config: Any, name: str) -> None:
    if not isinstance(tokenizer_config, dict):
        raise BackendError(f"tokenizer_config file '{name}' must be a JSON object")
    cls = tokenizer_config.get("tokenizer_class", "VitsTokenizer")
    if cls != "VitsTokenizer":
        raise BackendError(f"tokenizer_config file '{name}': tokenizer_class must be VitsTokenizer")
    # VitsTokenizer phonemises unless told otherwise.
    if tokenizer_config.get("phonemize", True) and not _phonemizer_available():
        raise BackendError(
            f"tokenizer_config file '{name}' sets phonemize (true by default), but the "
            "'phonemizer' package is not installed on this system"
        )


def _phonemizer_available() -> bool:
    return importlib.util.find_spec("phonemizer") is not None


# -- the backend ----------------------------------------------------------------------------------
