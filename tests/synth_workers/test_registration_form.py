"""Registering a checkpoint in Django admin: an upload per backend role, nothing kept if refused."""

import pickle
from pathlib import Path

from synth_workers.backends import joe_voice_files
from synth_workers.models import CheckpointFile, System
from synth_workers.services.registration import system_register
from tests.support.files import stored_checkpoints, upload

URL = "/admin/synth_workers/system/register/"


def test_the_form_offers_every_backend_then_one_upload_per_role(admin_client):
    page = admin_client.get(URL).content.decode()
    for name in ("piper", "espeak-ng", "hf-vits", "torchscript", "world-prosody-transfer"):
        assert f"?backend={name}" in page
    page = admin_client.get(URL + "?backend=piper").content.decode()
    assert 'name="file_model"' in page and 'name="file_config"' in page
    assert "voice.onnx.json" in page  # the backend's own description of the role


def test_a_piper_voice_registers_with_hashed_files_and_waits_for_its_check(admin_client):
    files = joe_voice_files()
    resp = admin_client.post(
        URL + "?backend=piper",
        {
            "name": "Joe (web)",
            "config": '{"length_scale": 1.1}',
            "file_model": upload(files["model"], "joe.onnx"),
            "file_config": upload(files["config"], "joe.onnx.json"),
        },
    )
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    system = System.objects.get(name="Joe (web)")
    assert (system.backend, system.backend_config) == ("piper", {"length_scale": 1.1})
    assert not system.usable and system.check_error == "waiting for a worker"
    roles = dict(CheckpointFile.objects.filter(system=system).values_list("role", "sha256"))
    assert set(roles) == {"model", "config"} and all(len(h) == 64 for h in roles.values())
    assert "test sentence" in admin_client.get(resp.url).content.decode()  # the message shown


class Boom:
    def __reduce__(self):
        return (open, ("/tmp/evalsite-pickle-ran", "w"))


def test_a_pickle_upload_is_refused_with_its_reason_and_nothing_is_kept(admin_client):
    before = stored_checkpoints()
    resp = admin_client.post(
        URL + "?backend=piper",
        {
            "name": "Evil",
            "config": "{}",
            "file_model": upload(pickle.dumps(Boom()), "voice.onnx"),
            "file_config": upload(joe_voice_files()["config"], "voice.onnx.json"),
        },
    )
    assert resp.status_code == 200
    page = resp.content.decode()
    assert "pickle" in page and "trusted" in page
    assert not System.objects.filter(name="Evil").exists()
    assert stored_checkpoints() == before
    assert not Path("/tmp/evalsite-pickle-ran").exists()


def test_bad_config_json_is_named_on_the_form(admin_client):
    resp = admin_client.post(URL + "?backend=espeak-ng", {"name": "E", "config": "{voice: en}"})
    assert resp.status_code == 200
    assert "not valid JSON" in resp.content.decode()
    resp = admin_client.post(URL + "?backend=espeak-ng", {"name": "E", "config": '{"colour": 1}'})
    assert "unknown config key &#x27;colour&#x27;" in resp.content.decode()
    assert not System.objects.filter(name="E").exists()


def test_a_prosody_transfer_system_is_built_on_a_registered_base(admin_client):
    base = system_register(name="Joe", backend="piper", files=joe_voice_files())
    System.objects.filter(pk=base.pk).update(usable=True, check_error="")
    files_before = len(stored_checkpoints())
    resp = admin_client.post(
        URL + "?backend=world-prosody-transfer",
        {"name": "Joe + prosody", "config": "{}", "base_system": base.pk},
    )
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    system = System.objects.get(name="Joe + prosody")
    assert system.backend_config["base_backend"] == "piper"
    assert system.backend_config["base_system"] == "Joe"
    assert "prosody_reference" in system.capabilities
    wrapped = dict(system.files.values_list("role", "sha256"))
    assert wrapped == {f"base:{r}": h for r, h in base.files.values_list("role", "sha256")}
    assert len(stored_checkpoints()) == files_before  # the base's stored files are reused
