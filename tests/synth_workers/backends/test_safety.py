"""Uploaded model files are judged from their bytes: pickles are never executed, ONNX models
may not reach outside their file, and a voice config must give every field piper needs."""

import json
import pickle
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from synth_workers.backends import (
    BackendError,
    check_file,
    check_onnx_file,
    get_backend,
    is_pickle_like,
)


class Trap:
    """Unpickling this creates the marker file: proof that a check executed the pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / "pwned"
    yield path
    assert not path.exists(), "a check unpickled the malicious file"


@pytest.mark.parametrize("protocol", range(6))
def test_malicious_pickle_is_detected_without_running_it(tmp_path, marker, protocol):
    path = tmp_path / "voice.onnx"
    path.write_bytes(pickle.dumps(Trap(marker), protocol=protocol))
    assert is_pickle_like(path)
    with pytest.raises(BackendError, match="'voice.onnx' is a pickle-based checkpoint"):
        check_file(path, "model", trusted=False)
    with pytest.raises(BackendError, match="pickle-based checkpoint, not an ONNX model"):
        check_onnx_file(path)


def test_piper_refuses_a_pickle_even_on_a_trusted_system(tmp_path, marker, joe_files):
    path = tmp_path / "voice.onnx"
    path.write_bytes(pickle.dumps(Trap(marker)))
    files = {**joe_files, "model": path}
    with pytest.raises(BackendError, match="voice.onnx' is a pickle-based checkpoint"):
        get_backend("piper").check_files(files, {}, trusted=False)
    with pytest.raises(BackendError, match="pickle-based checkpoint, not an ONNX model"):
        get_backend("piper").check_files(files, {}, trusted=True)


def test_a_trusted_system_may_register_a_pickle_with_a_generic_check(tmp_path, marker):
    path = tmp_path / "model.ckpt"
    path.write_bytes(pickle.dumps(Trap(marker)))
    check_file(path, "model", trusted=True)  # no error: trust is an administrator's decision


@pytest.mark.parametrize("member", ["archive/data.pkl", "data.pkl", "model/constants.pkl"])
def test_torch_and_torchscript_zips_are_detected(tmp_path, marker, member):
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/version", "3\n")
        archive.writestr(member, pickle.dumps(Trap(marker), protocol=2))
    assert is_pickle_like(path)


def test_numpy_object_arrays_are_detected_but_plain_arrays_are_not(tmp_path, marker):
    objects = np.array([Trap(marker)], dtype=object)
    np.save(tmp_path / "objects.npy", objects, allow_pickle=True)
    np.savez(tmp_path / "voices.npz", style=objects)
    np.save(tmp_path / "floats.npy", np.zeros(4, np.float32))
    np.savez(tmp_path / "floats.npz", style=np.zeros((2, 3), np.float32))
    assert is_pickle_like(tmp_path / "objects.npy")
    assert is_pickle_like(tmp_path / "voices.npz")
    assert not is_pickle_like(tmp_path / "floats.npy")
    assert not is_pickle_like(tmp_path / "floats.npz")


def test_ordinary_files_are_not_pickle_like(tmp_path, joe_files):
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "note.txt").write_text("(starts like a protocol-0 pickle, ends unlike one)\n")
    for path in [*joe_files.values(), *tmp_path.iterdir()]:
        assert not is_pickle_like(path), path


def tiny_model(initializer_size: int = 64) -> onnx.ModelProto:
    # raw_data (what from_array writes) is what save_as_external_data moves out of the file
    weights = numpy_helper.from_array(np.ones(initializer_size, np.float32), "weights")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "weights"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [initializer_size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [initializer_size])],
        [weights],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def test_onnx_with_external_data_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "outside.onnx"
    onnx.save_model(
        tiny_model(), path, save_as_external_data=True, location="weights.bin", size_threshold=0
    )
    assert (tmp_path / "weights.bin").exists()
    with pytest.raises(BackendError, match="'outside.onnx' keeps tensor 'weights'.*'weights.bin'"):
        check_onnx_file(path)


def test_self_contained_onnx_passes_but_is_no_piper_voice(tmp_path, joe_files):
    path = tmp_path / "tiny.onnx"
    onnx.save_model(tiny_model(), path)
    assert len(check_onnx_file(path).graph.node) == 1
    with pytest.raises(BackendError, match="'tiny.onnx' has no input 'input'; it is not a Piper"):
        get_backend("piper").check_files({**joe_files, "model": path}, {}, trusted=False)


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"\x00" * 100])
def test_files_that_are_not_onnx_are_refused(tmp_path, content):
    path = tmp_path / "fake.onnx"
    path.write_bytes(content)
    with pytest.raises(BackendError, match="'fake.onnx' is not .*ONNX model"):
        check_onnx_file(path)


def test_missing_file_is_refused_naming_the_role(tmp_path):
    with pytest.raises(BackendError, match="model file '.*absent.onnx' does not exist"):
        check_file(tmp_path / "absent.onnx", "model", trusted=False)


def edited_config(joe_files, tmp_path, edit):
    config = json.loads(joe_files["config"].read_text())
    edit(config)
    path = tmp_path / "voice.onnx.json"
    path.write_text(json.dumps(config))
    return {**joe_files, "config": path}


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["audio"].pop("sample_rate"), "has no audio.sample_rate"),
        (lambda c: c.pop("audio"), "has no audio.sample_rate"),
        (lambda c: c["audio"].update(sample_rate="22050"), "audio.sample_rate must be an integer"),
        (lambda c: c["audio"].update(sample_rate=50), "audio.sample_rate 50 is not a plausible"),
        (lambda c: c.update(num_speakers=3), "num_speakers is 3 but speaker_id_map is missing"),
        (lambda c: (c.pop("speaker_id_map"), c.update(num_speakers=2)), "speaker_id_map is"),
        (lambda c: c.update(num_speakers=0), "num_speakers must be at least 1"),
        (lambda c: c.update(speaker_id_map={"ann": 4}), r"speaker_id_map\['ann'\] is 4"),
        (lambda c: c.pop("phoneme_id_map"), "has no phoneme_id_map"),
        (lambda c: c.update(phoneme_id_map={}), "phoneme_id_map is empty"),
        (lambda c: c["phoneme_id_map"].update(a=[999]), r"phoneme_id_map\['a'\]"),
        (lambda c: c.update(phoneme_type="pinyin"), "phoneme_type 'pinyin' is not supported"),
        (lambda c: c.pop("espeak"), "has no espeak.voice"),
        (lambda c: c["inference"].update(noise_scale="x"), "inference.noise_scale"),
    ],
)
def test_voice_config_gaps_and_mismatches_are_refused_naming_the_field(
    joe_files, tmp_path, edit, message
):
    files = edited_config(joe_files, tmp_path, edit)
    with pytest.raises(BackendError, match=message):
        get_backend("piper").check_files(files, {}, trusted=False)


def test_voice_config_that_is_not_json_is_refused(joe_files, tmp_path):
    path = tmp_path / "voice.onnx.json"
    path.write_text("{'single': 'quotes'}")
    with pytest.raises(BackendError, match="'voice.onnx.json' is not valid UTF-8 JSON"):
        get_backend("piper").check_files({**joe_files, "config": path}, {}, trusted=False)
