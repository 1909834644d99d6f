"""The world-prosody-transfer backend on real speech: the Piper voice joe (a low male voice) as
the base; as the prosody reference, espeak-ng's "excited" rendering of the same sentence (fast,
high, wide intonation) by its female variant f3, so that register and timing differ clearly."""

import textwrap

import numpy as np
import pytest

from synth_workers.audio import Audio
from synth_workers.audio.prosody import f0_correlation
from synth_workers.backends import (
    ENTRY_POINT_GROUP,
    BackendError,
    SynthRequest,
    get_backend,
    joe_voice_files,
)
from synth_workers.backends.world_transfer import WorldProsodyTransferBackend

from .speech import assert_speech_like, median_f0

TEXT = "The quick brown fox jumps over the lazy dog."
PIPER = {"base_backend": "piper", "base_system": "Joe"}


def prefixed(files: dict) -> dict:
    return {f"base:{role}": path for role, path in files.items()}


@pytest.fixture(scope="module")
def transfer():
    backend = get_backend("world-prosody-transfer")()
    backend.load(prefixed(joe_voice_files()), PIPER, "cpu")
    return backend


@pytest.fixture(scope="module")
def reference(espeak):
    return espeak.synthesize([SynthRequest(TEXT, style="excited", speaker="f3")])[0]


@pytest.fixture(scope="module")
def plain(joe):
    return joe.synthesize([SynthRequest(TEXT)])[0]


@pytest.fixture(scope="module")
def transferred(transfer, reference):
    return transfer.synthesize([SynthRequest(TEXT, prosody_reference=reference)])[0]


def test_the_registry_knows_it():
    assert get_backend("world-prosody-transfer") is WorldProsodyTransferBackend


def test_it_can_do_what_its_base_can_and_take_a_prosody_reference(transfer):
    info = WorldProsodyTransferBackend.describe(prefixed(joe_voice_files()), PIPER)
    assert info.capabilities == {"tts", "prosody_reference"}
    assert info.languages == {"en-us"} and info.sample_rate == 22050
    assert info.engine.startswith("pyworld ") and "piper-tts" in info.engine
    assert transfer.info.capabilities == info.capabilities
    assert transfer.info.deterministic  # piper's seeded noise, and WORLD's own is fixed


def test_the_transferred_contour_follows_the_reference_better_than_the_plain_rendering(
    plain, reference, transferred
):
    before, after = f0_correlation(plain, reference), f0_correlation(transferred, reference)
    print(f"log-F0 correlation with the reference: plain {before:.3f}, transferred {after:.3f}")
    assert after > 0.8  # measured 0.97
    assert after > before + 0.4  # measured 0.31 before


def test_the_rendering_keeps_the_base_voice_register(plain, reference, transferred):
    assert_speech_like(transferred, TEXT)
    base, target, out = median_f0(plain), median_f0(reference), median_f0(transferred)
    print(f"median F0: base {base:.1f} Hz, reference {target:.1f} Hz, transferred {out:.1f} Hz")
    # Measured 88, 272 and 105 Hz: joe's rough voice reads low by autocorrelation.
    assert abs(np.log(out / base)) < 0.25
    assert abs(np.log(target / base)) > 0.8


def test_the_rendering_takes_the_reference_timing(plain, reference, transferred):
    assert transferred.sample_rate == plain.sample_rate
    assert transferred.duration == pytest.approx(reference.duration, rel=0.1)
    assert abs(plain.duration / reference.duration - 1) > 0.2  # so the test can tell them apart


def test_without_the_median_shift_the_reference_register_is_kept(joe_files, reference):
    backend = get_backend("world-prosody-transfer")()
    backend.load(prefixed(joe_files), {**PIPER, "shift_to_median": False}, "cpu")
    out = backend.synthesize([SynthRequest(TEXT, prosody_reference=reference)])[0]
    assert median_f0(out) == pytest.approx(median_f0(reference), rel=0.1)


def test_a_request_without_a_reference_is_the_base_rendering_unchanged(transfer, plain):
    # What the registration smoke test renders, and a job's untransferred baseline.
    (audio,) = transfer.synthesize([SynthRequest(TEXT)])
    np.testing.assert_array_equal(audio.samples, plain.samples)


def test_an_espeak_base_keeps_its_styles_and_speakers(plain):
    backend = get_backend("world-prosody-transfer")()
    backend.load({}, {"base_backend": "espeak-ng"}, "cpu")
    assert {
        "style",
        "multi_speaker",
        "cross_lingual",
        "prosody_reference",
    } <= backend.info.capabilities
    request = SynthRequest(TEXT, style="dj", speaker="f3", prosody_reference=plain)
    out = backend.synthesize([request])[0]
    assert out.sample_rate == backend.info.sample_rate
    assert out.duration == pytest.approx(plain.duration, rel=0.1)


@pytest.mark.parametrize(
    "files, config, message",
    [
        ({}, {"base_backend": "world-prosody-transfer"}, "cannot be built on itself"),
        ({}, {"base_backend": "tacotron9"}, "unknown backend 'tacotron9'; available: espeak-ng"),
        ({}, {}, "config key 'base_backend' is required"),
        ({}, {"base_backend": "espeak-ng", "colour": 1}, "unknown config key 'colour'"),
        ({}, {"base_backend": "espeak-ng", "base_config": "x"}, "'base_config' must be dict"),
        ({}, {"base_backend": "espeak-ng", "shift_to_median": 1}, "must be bool"),
        ("joe", PIPER, None),
        ("joe:unprefixed", PIPER, "does not use a 'model' file; it takes the base backend's"),
        ("joe:no-config", PIPER, r"needs a 'base:config' file \(base backend 'piper'"),
        ("joe", {**PIPER, "base_config": {"colour": 1}}, "base backend 'piper': unknown config"),
        ("joe:model", {"base_backend": "espeak-ng"}, "base backend 'espeak-ng': .* 'model' file"),
        ({}, {"base_backend": "espeak-ng", "base_config": {"voice": "xx"}}, "no language 'xx'"),
    ],
)
def test_registrations_are_checked_by_it_and_by_the_base(joe_files, files, config, message):
    if isinstance(files, str):
        files = {
            "joe": prefixed(joe_files),
            "joe:unprefixed": {"model": joe_files["model"], "base:config": joe_files["config"]},
            "joe:no-config": {"base:model": joe_files["model"]},
            "joe:model": {"base:model": joe_files["model"]},
        }[files]
    if message is None:
        WorldProsodyTransferBackend.check_files(files, config, trusted=False)
        return
    with pytest.raises(BackendError, match=message):
        WorldProsodyTransferBackend.check_files(files, config, trusted=False)


WRAPPER_MODULE = """
from synth_workers.backends.world_transfer import WorldProsodyTransferBackend

class Wrapper(WorldProsodyTransferBackend):
    name = "another-wrapper"
"""


def test_a_third_party_backend_built_on_a_base_cannot_be_the_base(tmp_path, monkeypatch):
    """A real installed distribution declares it, as in test_registry."""
    (tmp_path / "wrapper_backend_plugin.py").write_text(textwrap.dedent(WRAPPER_MODULE))
    dist_info = tmp_path / "wrapper_backends-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: wrapper-backends\n")
    entry_point = "another-wrapper = wrapper_backend_plugin:Wrapper"
    (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry_point}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert get_backend("another-wrapper").name == "another-wrapper"
    with pytest.raises(BackendError, match="'another-wrapper' is itself built on a base backend"):
        WorldProsodyTransferBackend.check_files({}, {"base_backend": "another-wrapper"}, False)


def test_a_pickle_as_the_base_model_is_refused_as_the_base_would(joe_files, tmp_path):
    pickle = tmp_path / "voice.onnx"
    pickle.write_bytes(b"\x80\x04\x95" + bytes(64))
    files = {"base:model": pickle, "base:config": joe_files["config"]}
    with pytest.raises(BackendError, match="base backend 'piper': .*pickle"):
        WorldProsodyTransferBackend.check_files(files, PIPER, trusted=False)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"prosody_reference": Audio(np.zeros(0, np.float32), 16000)}, "reference is empty"),
        ({"prosody_reference": Audio(np.zeros(31 * 8000, np.float32), 8000)}, "limit is 30 s"),
        ({"prosody_reference": np.zeros(16000)}, "prosody reference must be audio"),
        ({"style": "excited"}, "lacks the capability style"),
        ({"controls": {"pitch": 3}}, "unknown control 'pitch'"),
        ({"text": ""}, "text is empty"),
    ],
)
def test_requests_are_checked_by_it_and_by_the_base(transfer, fields, message):
    with pytest.raises(BackendError, match=message):
        transfer.synthesize([SynthRequest(**{"text": TEXT, **fields})])


def test_a_reference_without_voiced_speech_is_refused_naming_the_sentence(transfer):
    noise = Audio(0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32), 16000)
    with pytest.raises(BackendError, match="prosody transfer for 'The quick.*reference has no voi"):
        transfer.synthesize([SynthRequest(TEXT, prosody_reference=noise)])


def test_a_sampled_voice_of_its_base_keeps_its_blend_in_the_provenance():
    """Over the kokoro base, a "sampled:<seed>" speaker is the base's new voice: the transfer
    backend passes the base's per-rendering facts (the blend weights) on."""
    backend = get_backend("world-prosody-transfer")()
    backend.load({}, {"base_backend": "kokoro"}, "cpu")
    request = SynthRequest("Hello there.", language="en-us", speaker="sampled:4")
    facts = backend.request_provenance(request)
    weights = facts["sampled_voice"]["weights"]
    assert facts["sampled_voice"]["seed"] == 4 and sum(weights.values()) == pytest.approx(1)
    assert backend.request_provenance(SynthRequest("Hello there.", language="en-us")) == {}
