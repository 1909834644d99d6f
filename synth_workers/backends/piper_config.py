"""Checks of a Piper voice's JSON config, and of whether it fits its ONNX model.

Piper reads the JSON with bare dictionary lookups, so a gap surfaces as a KeyError deep in
synthesis; here every field piper relies on is checked up front and named when wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import BackendError

MAX_CONFIG_BYTES = 5_000_000  # real voice configs are ~5 kB; this only stops absurd uploads
SAMPLE_RATES = (8000, 192_000)
# The other phonemisers download models at run time (pinyin: g2pW) or need extra packages.
OFFLINE_PHONEME_TYPES = ("espeak", "text")
MODEL_INPUTS = ("input", "input_lengths", "scales")
KIND_NAMES = {int: "an integer", dict: "an object", str: "a string"}


def read_voice_config(path: Path) -> dict[str, Any]:
    """The parsed JSON config, refused with the field named when piper could not use it."""
    name = path.name
    if not path.is_file():
        raise BackendError(f"voice config '{path}' does not exist or is not a regular file")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise BackendError(f"voice config '{name}' is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackendError(f"voice config '{name}' is not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise BackendError(f"voice config '{name}' must be a JSON object")
    _check_fields(config, name)
    return config


def _check_fields(config: dict, name: str) -> None:
    rate = _field(config, "audio.sample_rate", int, name)
    if not SAMPLE_RATES[0] <= rate <= SAMPLE_RATES[1]:
        raise BackendError(
            f"voice config '{name}': audio.sample_rate {rate} is not a plausible sample rate "
            f"({SAMPLE_RATES[0]} to {SAMPLE_RATES[1]} Hz)"
        )
    num_symbols = _field(config, "num_symbols", int, name)
    num_speakers = _field(config, "num_speakers", int, name)
    if num_speakers < 1:
        raise BackendError(f"voice config '{name}': num_speakers must be at least 1")
    _check_phoneme_type(config, name)
    _check_phoneme_id_map(_field(config, "phoneme_id_map", dict, name), num_symbols, name)
    _check_speaker_id_map(config, num_speakers, name)
    for key, value in (config.get("inference") or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BackendError(f"voice config '{name}': inference.{key} must be a number")


def _field(config: dict, dotted: str, kind: type, name: str) -> Any:
    value: Any = config
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise BackendError(f"voice config '{name}' has no {dotted}")
        value = value[part]
    if isinstance(value, bool) or not isinstance(value, kind):
        raise BackendError(
            f"voice config '{name}': {dotted} must be {KIND_NAMES[kind]}, "
            f"got {json.dumps(value)[:40]}"
        )
    return value


def _check_phoneme_type(config: dict, name: str) -> None:
    phoneme_type = config.get("phoneme_type", "espeak")
    if phoneme_type not in OFFLINE_PHONEME_TYPES:
        raise BackendError(
            f"voice config '{name}': phoneme_type '{phoneme_type}' is not supported (it needs "
            f"downloads or extra packages); supported: {', '.join(OFFLINE_PHONEME_TYPES)}"
        )
    if phoneme_type == "espeak":
        _field(config, "espeak.voice", str, name)


def _check_phoneme_id_map(id_map: dict, num_symbols: int, name: str) -> None:
    if not id_map:
        raise BackendError(f"voice config '{name}': phoneme_id_map is empty")
    for phoneme, ids in id_map.items():
        ok = isinstance(ids, list) and ids and all(isinstance(i, int) for i in ids)
        if not ok or not all(0 <= i < num_symbols for i in ids):
            raise BackendError(
                f"voice config '{name}': phoneme_id_map['{phoneme}'] must be a list of ids "
                f"between 0 and num_symbols - 1 ({num_symbols - 1})"
            )


def _check_speaker_id_map(config: dict, num_speakers: int, name: str) -> None:
    id_map = config.get("speaker_id_map")
    if id_map is None or id_map == {}:
        if num_speakers > 1:
            raise BackendError(
                f"voice config '{name}': num_speakers is {num_speakers} but speaker_id_map is "
                "missing or empty (it names the speakers)"
            )
        return
    if not isinstance(id_map, dict):
        raise BackendError(f"voice config '{name}': speaker_id_map must be an object")
    for speaker, sid in id_map.items():
        if isinstance(sid, bool) or not isinstance(sid, int) or not 0 <= sid < num_speakers:
            raise BackendError(
                f"voice config '{name}': speaker_id_map['{speaker}'] is {sid!r}, but "
                f"num_speakers is {num_speakers} (ids 0 to {num_speakers - 1})"
            )


def check_model_fits(config: dict, model_inputs: list[str], model_name: str) -> None:
    """The ONNX graph must take Piper's inputs, and a speaker id exactly when the config has
    several speakers (otherwise piper would feed 'sid' to a model without it, or the reverse)."""
    for required in MODEL_INPUTS:
        if required not in model_inputs:
            raise BackendError(
                f"ONNX model '{model_name}' has no input '{required}'; it is not a Piper voice"
            )
    has_sid, num_speakers = "sid" in model_inputs, config["num_speakers"]
    if has_sid != (num_speakers > 1):
        raise BackendError(
            f"voice config says num_speakers is {num_speakers}, but ONNX model '{model_name}' "
            f"{'takes a' if has_sid else 'has no'} speaker id input ('sid')"
        )


def voice_languages(config: dict) -> frozenset[str]:
    """Native languages: the espeak voice and the declared language code, normalised."""
    tags = [_get(config, "espeak", "voice"), _get(config, "language", "code")]
    return frozenset(t.strip().lower().replace("_", "-") for t in tags if isinstance(t, str) and t)


def _get(config: dict, section: str, key: str) -> Any:
    part = config.get(section)
    return part.get(key) if isinstance(part, dict) else None
