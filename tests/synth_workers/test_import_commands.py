"""import_corpus / import_rendered: clear refusals by file and line, all-or-nothing, --skip-bad."""

import subprocess
import sys
import zipfile

import pytest
from django.core.management import CommandError, call_command

from synth_workers.models import Corpus, Stimulus, System, Utterance
from tests.support.audio import write_silence, write_tone
from tests.support.paths import ROOT
from tests.support.services import embedded_env


@pytest.fixture
def corpus_files(tmp_path):
    audio = tmp_path / "audio"
    for i, key in enumerate(["u1", "u2", "u3"]):
        write_tone(audio / f"{key}.wav", seed=i, freq=150 + 40 * i)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        "key,text,speaker,recording\n"
        "u1,The first sentence.,p1,u1.wav\n"
        "u2,The second sentence.,p1,u2.wav\n"
        "u3,The third sentence.,p2,u3.wav\n"
    )
    return manifest, audio


def media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_good_corpus_imports_with_its_recordings(db, corpus_files, capsys):
    manifest, audio = corpus_files
    call_command("import_corpus", "demo", str(manifest), "--audio", str(audio))
    corpus = Corpus.objects.get(name="demo")
    assert list(corpus.utterances.values_list("key", "speaker")) == [
        ("u1", "p1"),
        ("u2", "p1"),
        ("u3", "p2"),
    ]
    assert corpus.recordings.kind == System.Kind.RECORDING
    stimuli = Stimulus.objects.filter(system=corpus.recordings)
    assert stimuli.count() == 3 and {s.status for s in stimuli} == {"pending"}
    output = capsys.readouterr()
    assert "Imported corpus 'demo': 3 utterance(s), 3 recording(s)" in output.out
    assert "Checking audio" in output.err and "3/3" in output.err  # the progress bar


def test_any_refusal_imports_nothing_and_names_each_problem(db, corpus_files, settings):
    manifest, audio = corpus_files
    write_silence(audio / "u4.wav")
    write_tone(audio / "u5.wav", rate=4000)
    (audio / "u6.wav").write_bytes(b"this is not audio")
    manifest.write_text(
        manifest.read_text()
        + "u4,Silent.,p1,u4.wav\nu5,Low rate.,p1,u5.wav\nu6,Broken.,p1,u6.wav\n"
        + "u7,Missing.,p1,u7.wav\nu1,Duplicate.,p1,u1.wav\nu8,,p1,u1.wav\n"
    )
    with pytest.raises(CommandError) as caught:
        call_command("import_corpus", "demo", str(manifest), "--audio", str(audio))
    message = str(caught.value)
    assert caught.value.returncode == 2
    assert "corpus 'demo' refused; nothing was imported" in message
    for expected in [
        "manifest.csv, line 5: u4.wav:",
        "silent",
        "manifest.csv, line 6: u5.wav:",
        "4000 Hz",
        "manifest.csv, line 7: u6.wav:",
        "manifest.csv, line 8: recording file 'u7.wav' not found",
        "manifest.csv, line 9: duplicate key 'u1' (first on line 2)",
        "manifest.csv, line 10: empty text for key 'u8'",
    ]:
        assert expected in message
    assert Corpus.objects.count() == Utterance.objects.count() == System.objects.count() == 0
    assert media_files(settings) == []


def test_skip_bad_imports_the_rest_and_lists_what_was_skipped(db, corpus_files, capsys):
    manifest, audio = corpus_files
    write_silence(audio / "u4.wav")
    manifest.write_text(manifest.read_text() + "u4,Silent.,p1,u4.wav\n")
    call_command("import_corpus", "demo", str(manifest), "--audio", str(audio), "--skip-bad")
    assert list(Utterance.objects.values_list("key", flat=True)) == ["u1", "u2", "u3"]
    out = capsys.readouterr().out
    assert "skipped: manifest.csv, line 5: u4.wav:" in out and "silent" in out


def test_rendered_audio_imports_by_key_from_a_zip(db, corpus_files, tmp_path):
    manifest, audio = corpus_files
    call_command("import_corpus", "demo", str(manifest), "--audio", str(audio))
    archive = tmp_path / "sys.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i, key in enumerate(["u1", "u2", "u3"]):
            zf.write(write_tone(tmp_path / "r" / f"{key}.flac", seed=10 + i), f"{key}.flac")
    call_command("import_rendered", "demo", "TTS-A", str(archive))
    system = System.objects.get(name="TTS-A")
    assert system.kind == System.Kind.RENDERED
    assert sorted(system.stimuli.values_list("utterance__key", flat=True)) == ["u1", "u2", "u3"]
    assert all(
        s.source.name.endswith(".flac") and "u1" not in s.source.name for s in system.stimuli.all()
    )


def test_rendered_import_refuses_missing_and_stray_files(db, corpus_files, tmp_path, settings):
    manifest, audio = corpus_files
    call_command("import_corpus", "demo", str(manifest), "--audio", str(audio))
    before = media_files(settings)
    folder = tmp_path / "rendered"
    write_tone(folder / "u1.wav")
    write_tone(folder / "u2.wav")
    write_tone(folder / "u9.wav")
    with pytest.raises(CommandError) as caught:
        call_command("import_rendered", "demo", "TTS-B", str(folder))
    assert "utterance 'u3': no file 'u3.wav'" in str(caught.value)
    assert "u9.wav: no utterance with this key in corpus" in str(caught.value)
    assert not System.objects.filter(name="TTS-B").exists()
    assert media_files(settings) == before


def test_the_command_line_says_what_is_wrong_in_plain_lines_with_exit_code_2(tmp_path):
    env = embedded_env(tmp_path / "var")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    manifest = tmp_path / "m.csv"
    manifest.write_text("key,text,recording\nk1,Hello.,missing.wav\n")
    (tmp_path / "audio").mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "import_corpus",
            "c",
            str(manifest),
            "--audio",
            str(tmp_path / "audio"),
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "m.csv, line 2: recording file 'missing.wav' not found" in result.stderr
