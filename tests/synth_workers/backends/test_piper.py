"""The piper backend with the real en_US-joe-medium voice (22.05 kHz, one speaker)."""

import json

import numpy as np
import pytest

from synth_workers.backends import BackendError, SynthRequest, get_backend, missing_capabilities

from .speech import assert_speech_like

TEXT = "The quick brown fox jumps over the lazy dog."


def render(backend, **fields):
    return backend.synthesize([SynthRequest(**fields)])[0]


def test_joe_voice_renders_speech_at_its_own_rate(joe):
    audio = render(joe, text=TEXT)
    assert audio.sample_rate == 22050
    assert_speech_like(audio, TEXT)


def test_several_sentences_are_all_spoken(joe):
    one = render(joe, text=TEXT)
    two = render(joe, text=f"{TEXT} {TEXT}")
    assert 1.8 * one.duration < two.duration < 2.3 * one.duration


def test_length_scale_makes_speech_longer_and_speed_shorter(joe):
    normal = render(joe, text=TEXT).duration
    assert render(joe, text=TEXT, controls={"length_scale": 1.5}).duration > 1.3 * normal
    assert render(joe, text=TEXT, controls={"speed": 2.0}).duration < 0.7 * normal


def test_same_request_and_seed_give_identical_samples(joe):
    assert joe.info.deterministic  # both noise draws were rewired to the seed
    first = render(joe, text=TEXT, seed=11)
    render(joe, text="Something else in between.", seed=11)
    again = render(joe, text=TEXT, seed=11)
    np.testing.assert_array_equal(first.samples, again.samples)


def test_another_seed_gives_another_rendition(joe):
    a, b = render(joe, text=TEXT, seed=1), render(joe, text=TEXT, seed=2)
    assert a.frames != b.frames or not np.array_equal(a.samples, b.samples)


def test_without_noise_the_seed_does_not_matter(joe):
    quiet = {"noise_scale": 0.0, "noise_w": 0.0}
    a = render(joe, text=TEXT, seed=1, controls=quiet)
    b = render(joe, text=TEXT, seed=2, controls=quiet)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_a_speaker_for_a_single_speaker_voice_is_refused_before_and_after_loading(joe, joe_files):
    request = SynthRequest(TEXT, speaker=0)
    info = get_backend("piper").describe(joe_files, {})
    assert info.capabilities == {"tts"}
    assert missing_capabilities(request, info) == {"multi_speaker"}
    with pytest.raises(BackendError, match="multi_speaker"):
        joe.synthesize([request])


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"text": ""}, "text is empty"),
        ({"text": "   "}, "text is empty"),
        ({"text": "a" * 1001}, "text is 1001 characters; the limit is 1000"),
        ({"language": "de"}, "cross_lingual"),
        ({"style": "excited"}, "capability style"),
        ({"controls": {"speed": 2, "length_scale": 1}}, "either control 'speed' or"),
        ({"controls": {"length_scale": 0}}, "'length_scale' is 0"),
        ({"controls": {"pitch": 3}}, "unknown control 'pitch'"),
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_requests_it_cannot_honour_are_refused(joe, fields, message):
    with pytest.raises(BackendError, match=message):
        joe.synthesize([SynthRequest(**{"text": TEXT, **fields})])


def test_a_bad_item_fails_the_whole_batch_before_any_rendering(joe):
    with pytest.raises(BackendError, match="text is empty"):
        joe.synthesize([SynthRequest(TEXT), SynthRequest("")])


def test_english_without_region_is_the_voice_own_language(joe):
    assert render(joe, text="Hello.", language="en").duration > 0.2


def test_registration_defaults_change_the_rendition(joe, joe_files):
    slow = get_backend("piper")()
    slow.load(joe_files, {"length_scale": 1.6}, "cpu")
    assert slow.info.sample_rate == 22050
    assert render(slow, text=TEXT).duration > 1.3 * render(joe, text=TEXT).duration


def test_unknown_registration_key_is_refused(joe_files):
    with pytest.raises(BackendError, match="unknown config key 'pitch'; accepted keys: length"):
        get_backend("piper").check_files(joe_files, {"pitch": 1}, trusted=False)


def test_multi_speaker_config_that_does_not_fit_the_model_is_refused(joe_files, tmp_path):
    config = json.loads(joe_files["config"].read_text())
    config.update(num_speakers=3, speaker_id_map={"a": 0, "b": 1, "c": 2})
    path = tmp_path / "voice.onnx.json"
    path.write_text(json.dumps(config))
    files = {**joe_files, "config": path}
    with pytest.raises(
        BackendError, match="num_speakers is 3, but ONNX model .* has no speaker id input"
    ):
        get_backend("piper").check_files(files, {}, trusted=False)


def test_missing_or_unknown_file_roles_are_refused(joe_files):
    piper = get_backend("piper")
    with pytest.raises(BackendError, match="needs a 'config' file"):
        piper.check_files({"model": joe_files["model"]}, {}, trusted=False)
    with pytest.raises(BackendError, match="does not use a 'vocoder' file"):
        piper.check_files({**joe_files, "vocoder": joe_files["model"]}, {}, trusted=False)


def test_unknown_device_is_refused(joe_files):
    with pytest.raises(BackendError, match="device must be 'cpu', 'cuda' or 'cuda:N'"):
        get_backend("piper")().load(joe_files, {}, "tpu")


def test_cuda_falls_back_to_the_cpu_when_onnxruntime_has_no_cuda(joe_files):
    backend = get_backend("piper")()
    backend.load(joe_files, {}, "cuda:0")  # CPU onnxruntime here: warns and uses the CPU
    assert render(backend, text="Hello.").duration > 0.2


@pytest.fixture(scope="module")
def two_speaker_files(joe_files, tmp_path_factory):
    """Joe's graph with a (so far unused) 'sid' input and a two-speaker config: enough to drive
    the multi-speaker path of the backend with a real ONNX session."""
    import onnx
    from onnx import TensorProto, helper

    folder = tmp_path_factory.mktemp("two-speakers")
    model = onnx.load(str(joe_files["model"]))
    # joe's graph has an unrelated float constant called 'sid'; rename it out of the way
    for tensor in model.graph.initializer:
        if tensor.name == "sid":
            tensor.name = "sid_constant"
    for node in model.graph.node:
        node.input[:] = ["sid_constant" if n == "sid" else n for n in node.input]
    model.graph.input.append(helper.make_tensor_value_info("sid", TensorProto.INT64, [1]))
    onnx.save_model(model, folder / "duo.onnx")
    config = json.loads(joe_files["config"].read_text())
    config.update(num_speakers=2, speaker_id_map={"ann": 0, "bob": 1})
    (folder / "duo.onnx.json").write_text(json.dumps(config))
    return {"model": folder / "duo.onnx", "config": folder / "duo.onnx.json"}


def test_multi_speaker_voice_takes_speakers_by_name_or_id(two_speaker_files):
    piper = get_backend("piper")
    info = piper.describe(two_speaker_files, {})
    assert info.capabilities == {"tts", "multi_speaker"}
    assert info.speakers == ("ann", "bob")
    backend = piper()
    backend.load(two_speaker_files, {}, "cpu")
    by_name = render(backend, text="Hello there.", speaker="bob")
    for same in (1, "1"):
        by_id = render(backend, text="Hello there.", speaker=same)
        np.testing.assert_array_equal(by_name.samples, by_id.samples)
    for unknown in ("carol", 2, "2", -1):
        with pytest.raises(BackendError, match=f"unknown speaker {unknown!r}; .*ids 0 to 1"):
            backend.synthesize([SynthRequest("Hello there.", speaker=unknown)])
