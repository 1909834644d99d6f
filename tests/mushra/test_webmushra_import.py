"""Importing a webMUSHRA configuration (YAML + its audio folder) as a draft listening test: what
is carried over, what is a note, what is refused; a refusal leaves nothing behind."""

import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from evalsite.errors import InputError
from evalsite.models import Project
from mushra.management.commands.import_webmushra import Command
from mushra.models import ListeningTest
from mushra.services import listening_test_open
from mushra.webmushra_config import read_config
from mushra.webmushra_import import webmushra_import
from mushra.webmushra_plan import html_to_text
from synth_workers.models import Corpus, Stimulus, System, Utterance
from tests.support.audio import write_tone
from tests.support.prepared_audio import SESSION

# The example of shared/reference/webmushra-and-peers.md §2, with a generic page added.
PILOT = textwrap.dedent(
    """\
    testname: TTS naturalness pilot
    testId: tts_pilot
    bufferSize: 2048
    stopOnErrors: true
    showButtonPreviousPage: false
    remoteService: service/write.php
    language: de
    pages:
      - type: generic
        id: welcome
        name: Welcome
        content: <p>Welcome to the test.</p>
      - type: consent
        id: consent
        name: Consent
        mustConsent: true
        content: <p>We store your ratings &amp; answers.</p><p>You may stop at any time.</p>
      - type: volume
        id: vol
        name: Volume
        content: Set a comfortable level.
        stimulus: audio/calib.wav
        defaultVolume: 0.6
      - type: mushra                 # training: fixed order, names shown
        id: train01
        name: Training
        content: Listen to every version.
        showWaveform: true
        enableLooping: true
        reference: audio/u01/natural.wav
        createAnchor35: true
        createAnchor70: false
        randomize: false
        showConditionNames: true
        stimuli: {sysA: audio/u01/sysA.wav, sysB: audio/u01/sysB.wav}
      - - random                     # the block below is shuffled
        - type: mushra
          id: u02
          name: Item
          content: Rate each version against the reference.
          enableLooping: true
          strict: true
          reference: audio/u02/natural.wav
          createAnchor35: true
          stimuli: {sysA: audio/u02/sysA.wav, sysB: audio/u02/sysB.wav, sysC: audio/u02/sysC.wav}
        - type: mushra
          id: u03
          name: Item
          content: Rate each version against the reference.
          reference: audio/u03/natural.wav
          createAnchor35: true
          stimuli: {sysA: audio/u03/sysA.wav, sysB: audio/u03/sysB.wav, sysC: audio/u03/sysC.wav}
      - type: finish
        name: Thank you
        content: Press Send.
        popupContent: Results sent.
        showResults: false
        writeResults: true
        questionnaire:
          - {type: number, name: age, label: Age, min: 18, max: 99, default: 30}
          - type: likert
            name: headphones
            label: Headphones?
            response: [{value: "yes", label: "Yes"}, {value: "no", label: "No"}]
          - {type: long_text, name: feedback, label: Comments, optional: true}
    """
)

ACR_RESPONSES = "[{value: 1, label: Bad}, {value: 2, label: Poor}, {value: 3, label: Fair}, " + (
    "{value: 4, label: Good}, {value: 5, label: Excellent}]"
)

MOS = textwrap.dedent(
    f"""\
    testname: MOS study
    testId: mos-study
    pages:
      - type: likert_single_stimulus
        id: s1
        name: Quality
        content: How good is it?
        mustRate: true
        response: {ACR_RESPONSES}
        stimuli: {{sysA: audio/u02/sysA.wav, sysB: audio/u02/sysB.wav}}
      - type: likert_multi_stimulus
        id: s2
        name: Quality
        response: {ACR_RESPONSES}
        stimuli: {{sysA: audio/u03/sysA.wav, sysB: audio/u03/sysB.wav}}
    """
)

# Shaped like webMUSHRA's configs/ABX_nowav.yaml: one paired_comparison page per item.
PAIRED = textwrap.dedent(
    """\
    testname: ABX study
    testId: abx-study
    pages:
      - type: paired_comparison
        id: u02
        name: Mono Trial AB
        unforced: I don't know
        content: test description AB
        showWaveform: false
        enableLooping: true
        reference: audio/u02/natural.wav
        stimuli: {sysA: audio/u02/sysA.wav, sysB: audio/u02/sysB.wav}
      - type: paired_comparison
        id: u03
        name: Mono Trial AB
        unforced:
        reference: audio/u03/natural.wav
        stimuli: {sysA: audio/u03/sysA.wav, sysB: audio/u03/sysB.wav}
      - type: finish
        name: Thank you
    """
)


@pytest.fixture
def audio_root(tmp_path) -> Path:
    """webMUSHRA's folder: audio/<item>/natural.wav and one file per system."""
    root = tmp_path / "webmushra"
    for i, item in enumerate(["u01", "u02", "u03"]):
        write_tone(root / "audio" / item / "natural.wav", seconds=1.2, freq=180 + 20 * i, seed=i)
        for s, system in enumerate(["sysA", "sysB", "sysC"]):
            freq = 300 + 50 * s + 10 * i
            write_tone(root / "audio" / item / f"{system}.wav", seconds=1.2, freq=freq, seed=s)
    write_tone(root / "audio" / "calib.wav", seconds=1.0)
    return root


def config_file(folder: Path, text: str, name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def imported(audio_root: Path, text: str, **kwargs) -> ListeningTest:
    plan = read_config(text, audio_root, name="config.yaml")
    return webmushra_import(plan=plan, audio_root=audio_root, **kwargs)


def nothing_imported() -> bool:
    return not (
        Corpus.objects.exists()
        or System.objects.exists()
        or Utterance.objects.exists()
        or Stimulus.objects.exists()
        or ListeningTest.objects.exists()
    )


def media_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def refusal(audio_root: Path, text: str) -> str:
    with pytest.raises(InputError) as refused:
        imported(audio_root, text)
    return str(refused.value)


# --- what is carried over ----------------------------------------------------------------------


def test_a_mushra_config_becomes_a_draft_mushra_test_with_its_items_systems_and_anchors(
    db, audio_root
):
    test = imported(audio_root, PILOT)
    assert (test.name, test.slug, test.status, test.test_type) == (
        "TTS naturalness pilot",
        "tts_pilot",
        "draft",
        "mushra",
    )
    assert test.language == "de" and test.training and test.volume_calibration
    assert test.questionnaire is True
    assert test.consent_text == "We store your ratings & answers.\n\nYou may stop at any time."
    assert sorted(test.conditions.values_list("role", "label")) == [
        ("anchor_low", "Low anchor (3.5 kHz)"),
        ("reference", "Hidden reference"),
        ("system", "sysA"),
        ("system", "sysB"),
        ("system", "sysC"),
    ]
    corpus = test.corpus
    assert corpus.name == "TTS naturalness pilot" and corpus.project_id == test.project_id
    # The training page is not an item: only u02 and u03, their texts the page ids.
    assert list(corpus.utterances.order_by("key").values_list("key", "text", "language")) == [
        ("u02", "u02", "de"),
        ("u03", "u03", "de"),
    ]
    for system in ("sysA", "sysB", "sysC"):
        assert System.objects.get(name=system).kind == System.Kind.RENDERED
        assert Stimulus.objects.filter(system__name=system).count() == 2
    assert Stimulus.objects.filter(system=corpus.recordings).count() == 2
    assert set(Stimulus.objects.values_list("status", flat=True)) == {"pending"}


def test_each_system_plays_its_own_file_for_each_item(db, audio_root):
    test = imported(audio_root, PILOT)
    for key in ("u02", "u03"):
        for system in ("sysA", "sysC"):
            stim = Stimulus.objects.get(system__name=system, utterance__key=key)
            original = (audio_root / "audio" / key / f"{system}.wav").read_bytes()
            assert stim.source.read() == original
        recording = Utterance.objects.get(corpus=test.corpus, key=key).recording
        assert recording.read() == (audio_root / "audio" / key / "natural.wav").read_bytes()


def test_the_notes_say_what_was_not_carried_over(db, audio_root):
    plan = read_config(PILOT, audio_root, name="config.yaml")
    notes = "\n".join(plan.notes)
    for expected in [
        "page 'welcome' (generic): not carried over",
        "page 'vol' (volume): volume calibration is on; the platform plays its own calibration",
        "its questionnaire (age, headphones, feedback) is not carried over; the platform asks "
        "its own: age band, headphones, native language, comment",
        "page 'train01': webMUSHRA's training idiom",
        "createAnchor35: the platform makes the low anchor (3.5 kHz low-pass",
        "page order (and 1 random block(s)): not kept; the platform orders trials itself "
        "(a Williams design",
        "bufferSize, remoteService, showButtonPreviousPage, stopOnErrors: not carried over",
        "enableLooping (page 'u02'): not carried over; the platform's player",
        "strict (page 'u02'): not carried over",
        "content (page 'u02', page 'u03'): not carried over",
        "the corpus' texts are the page ids",
        "require_one_100",
    ]:
        assert expected in notes
    assert "createAnchor70" not in notes and plan.anchors == ("low",)


def test_the_prepared_import_opens_as_a_test(db, audio_root):
    test = imported(audio_root, PILOT)
    SESSION.make_ready(Stimulus.objects.all())  # the real preparation, shared by the session
    listening_test_open(test=test)
    assert test.status == "open" and test.stimuli.count() == 2 * 5


def test_preparation_is_queued_when_the_import_commits(
    db, audio_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        imported(audio_root, PILOT)
    assert len(queued) == Stimulus.objects.count() == 2 + 2 * 3  # recordings and systems


def test_likert_pages_with_five_responses_become_an_acr_test_without_recordings(db, audio_root):
    test = imported(audio_root, MOS)
    assert (test.test_type, test.slug, test.language, test.training) == (
        "acr",
        "mos-study",
        "en",
        False,
    )
    assert test.corpus.recordings is None
    assert sorted(test.conditions.values_list("role", "label")) == [
        ("system", "sysA"),
        ("system", "sysB"),
    ]
    assert list(test.corpus.utterances.order_by("key").values_list("key", flat=True)) == [
        "s1",
        "s2",
    ]
    plan = read_config(MOS, audio_root)
    notes = "\n".join(plan.notes)
    assert "likert response labels (Bad, Poor, Fair, Good, Excellent) are not carried over" in notes
    assert "mustRate (page 's1'): not carried over" in notes
    assert "no training page: the test has no practice trial" in notes


def test_likert_pages_with_references_rate_the_recordings_as_a_condition(db, audio_root):
    text = MOS.replace(
        "  - type: likert_single", "  - reference: audio/u02/natural.wav\n    type: likert_single"
    )
    text = text.replace("    id: s2\n", "    id: s2\n    reference: audio/u03/natural.wav\n")
    test = imported(audio_root, text)
    assert test.test_type == "acr" and test.corpus.recordings is not None
    assert ("reference", "Recordings") in test.conditions.values_list("role", "label")


def test_paired_comparison_pages_become_an_abx_test_of_the_recordings_and_the_systems(
    db, audio_root
):
    test = imported(audio_root, PAIRED)
    assert (test.test_type, test.status, test.slug, test.training) == (
        "abx",
        "draft",
        "abx-study",
        False,
    )
    recordings = test.corpus.recordings
    assert recordings is not None
    assert sorted(test.conditions.values_list("role", "label", "system__name")) == [
        ("system", "Recordings", recordings.name),
        ("system", "sysA", "sysA"),
        ("system", "sysB", "sysB"),
    ]
    assert list(test.corpus.utterances.order_by("key").values_list("key", "text")) == [
        ("u02", "u02"),
        ("u03", "u03"),
    ]
    for key in ("u02", "u03"):
        recording = Utterance.objects.get(corpus=test.corpus, key=key).recording
        assert recording.read() == (audio_root / "audio" / key / "natural.wav").read_bytes()
        for system in ("sysA", "sysB"):
            stim = Stimulus.objects.get(system__name=system, utterance__key=key)
            assert stim.source.read() == (audio_root / "audio" / key / f"{system}.wav").read_bytes()
    assert Stimulus.objects.filter(system=recordings).count() == 2
    assert Stimulus.objects.count() == 2 * 3


def test_the_prepared_abx_import_opens_as_a_test(db, audio_root):
    test = imported(audio_root, PAIRED)
    SESSION.make_ready(Stimulus.objects.all())  # the real preparation, shared by the session
    listening_test_open(test=test)
    assert test.status == "open" and test.stimuli.count() == 2 * 3
    assert set(test.stimuli.values_list("condition__label", flat=True)) == {
        "Recordings",
        "sysA",
        "sysB",
    }


def test_the_abx_notes_say_what_differs_from_webmushras_paired_comparison(audio_root):
    plan = read_config(PAIRED, audio_root, name="config.yaml")
    notes = "\n".join(plan.notes)
    for expected in [
        "an ABX test of the recordings (the condition 'Recordings') and the 2 system(s). "
        "webMUSHRA asks which of A and B is the reference (X is always the reference",
        "the platform asks whether X is A or B, X drawn at random from the pair",
        "compares every pair of the test's 3 conditions once per utterance a session rates, "
        "the systems with each other too, not only each with the reference: 3 trials per "
        "utterance where webMUSHRA had 2 page(s) per item",
        # Only u02 offers the third answer: webMUSHRA shows none for an empty unforced.
        "unforced (page 'u02'): not carried over; the platform's ABX is forced choice (X is A or "
        'X is B), with no third answer such as "I don\'t know"',
        "the platform unlocks a trial's answer once A, B and X have all been played "
        "(require_play_all)",
        "enableLooping (page 'u02'): not carried over",
        "no training page: the test has no practice trial",
    ]:
        assert expected in notes
    assert "require_one_100" not in notes and plan.anchors == ()


def test_paired_comparison_pages_without_unforced_get_no_unforced_note(audio_root):
    plan = read_config(PAIRED.replace("    unforced: I don't know\n", ""), audio_root)
    assert not any(note.startswith("unforced") for note in plan.notes)


def test_a_language_the_platform_lacks_is_a_note_and_the_test_stays_in_english(db, audio_root):
    plan = read_config(PILOT.replace("language: de", "language: it"), audio_root)
    assert plan.language == "en"
    assert any(n.startswith("language 'it' is not one of the platform's") for n in plan.notes)


def test_consent_html_becomes_text():
    assert html_to_text("<h1>Consent</h1><ul><li>one</li><li>two &lt;3</li></ul>x<br>y") == (
        "Consent\n\n- one\n- two <3\n\nx\ny"
    )


# --- refusals: everything listed at once, nothing written --------------------------------------


def test_a_refused_config_lists_every_problem_and_imports_nothing(
    db, audio_root, tmp_path, settings
):
    outside = write_tone(tmp_path / "outside.wav")
    (audio_root / "audio" / "link.wav").symlink_to(outside)
    text = (
        PILOT.replace("audio/u02/sysB.wav", "../outside.wav")
        .replace("audio/u02/sysC.wav", str(outside))
        .replace("audio/u03/sysA.wav", "audio/link.wav")
        .replace("audio/u03/sysB.wav", "audio/u03/missing.wav")
        .replace(", sysC: audio/u03/sysC.wav}", "}")
    )
    message = refusal(audio_root, text)
    assert "config.yaml refused; nothing was imported" in message
    for expected in [
        "config.yaml, page 'u02', stimuli.sysB: '../outside.wav': '..' is not allowed",
        f"config.yaml, page 'u02', stimuli.sysC: '{outside}' is an absolute path",
        "config.yaml, page 'u03', stimuli.sysA: 'audio/link.wav' links outside the audio folder",
        "config.yaml, page 'u03', stimuli.sysB: 'audio/u03/missing.wav' not found",
    ]:
        assert expected in message
    assert nothing_imported() and media_files(settings) == []


def test_a_page_missing_a_stimuli_key_is_refused_by_page_and_key(db, audio_root):
    message = refusal(audio_root, PILOT.replace(", sysC: audio/u03/sysC.wav}", "}"))
    assert "config.yaml, page 'u03': stimuli key 'sysC' is missing" in message
    assert nothing_imported()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("pages: [type: mushra\n", "config.yaml, line 2: not valid YAML"),
        ("- just\n- a list\n", "config.yaml: not a webMUSHRA configuration"),
        ("testname: x\npages: []\n", "config.yaml: no 'pages' list"),
        ("testname: x\n", "config.yaml: no 'pages' list"),
        ("!!python/object/apply:os.system [echo hi]\n", "config.yaml, line 1: not valid YAML"),
        ("pages: " + "[" * 5000, "config.yaml"),
    ],
)
def test_a_file_that_is_not_a_config_gets_one_message_with_its_name(db, audio_root, text, expected):
    message = refusal(audio_root, text)
    assert message.startswith(expected) and "\n" not in message
    assert nothing_imported()


def test_a_config_whose_aliases_repeat_pages_endlessly_is_refused(audio_root):
    # Each level repeats the one below ten times: 10^6 pages from a few hundred bytes.
    levels = ["l0: &l0 [{type: generic}, {type: generic}]"]
    for n in range(1, 6):
        levels.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]")
    text = "\n".join([*levels, "pages: [*l5]"])
    with pytest.raises(InputError, match=r"^config.yaml: more than 5000 pages$"):
        read_config(text, audio_root, name="config.yaml")


def test_a_config_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path, audio_root):
    big = config_file(tmp_path, "testname: x\n" + "# padding\n" * 120_000)
    with pytest.raises(InputError, match=r"config.yaml: over the limit of 1 MB"):
        read_config(big, audio_root)


@pytest.mark.parametrize("kind", ["bs1116", "spatial"])
def test_page_types_the_platform_lacks_are_refused_by_page(db, audio_root, kind):
    text = PILOT.replace("  - type: finish", f"  - type: {kind}\n    id: extra\n  - type: finish")
    message = refusal(audio_root, text)
    assert (
        f"config.yaml, page 'extra': type '{kind}' is not available on this platform yet "
        "(BS.1116 and spatial tests are not built)"
    ) in message
    assert "paired_comparison" not in message
    assert nothing_imported()


def test_mushra_and_paired_comparison_pages_in_one_config_are_refused(db, audio_root):
    paired = PAIRED.split("pages:\n", 1)[1].split("  - type: finish")[0]
    message = refusal(audio_root, PILOT.replace("  - type: finish", paired + "  - type: finish"))
    assert (
        "config.yaml, mushra pages (page 'train01', page 'u02', page 'u03') and "
        "paired_comparison pages (page 'u02', page 'u03'): one test per type"
    ) in message
    assert nothing_imported()


def test_a_paired_comparison_page_without_reference_is_refused(db, audio_root):
    message = refusal(audio_root, PAIRED.replace("    reference: audio/u03/natural.wav\n", ""))
    assert "config.yaml, page 'u03': no reference (a paired_comparison page needs one)" in message
    assert nothing_imported()


def test_a_paired_comparison_key_named_like_the_recordings_is_refused_before_writing(
    db, audio_root
):
    message = refusal(audio_root, PAIRED.replace("sysB:", "Recordings:"))
    assert "stimuli key 'Recordings' names the recordings' condition of the ABX test" in message
    assert nothing_imported()


def test_mushra_and_likert_pages_in_one_config_are_refused(db, audio_root):
    likert = MOS.split("pages:\n", 1)[1]
    message = refusal(audio_root, PILOT.replace("  - type: finish", likert + "  - type: finish"))
    assert (
        "config.yaml, mushra pages (page 'train01', page 'u02', page 'u03') and likert pages "
        "(page 's1', page 's2'): one test per type"
    ) in message
    assert nothing_imported()


def test_likert_pages_with_seven_responses_are_refused(db, audio_root):
    seven = ACR_RESPONSES.replace("]", ", {value: 6, label: Six}, {value: 7, label: Seven}]")
    message = refusal(audio_root, MOS.replace(ACR_RESPONSES, seven, 1))
    assert (
        "config.yaml, page 's1': 7 response categories; the platform's ACR scale has 5 categories"
    ) in message
    assert nothing_imported()


def test_names_already_taken_are_refused_before_anything_is_written(db, audio_root, settings):
    imported(audio_root, PILOT)
    before = media_files(settings)
    counts = (Corpus.objects.count(), System.objects.count(), Stimulus.objects.count())
    message = refusal(audio_root, PILOT)
    for expected in [
        "a corpus named 'TTS naturalness pilot' already exists",
        "a system named 'sysA' already exists",
        "a test with the address 'tts_pilot' exists",
    ]:
        assert expected in message
    assert (Corpus.objects.count(), System.objects.count(), Stimulus.objects.count()) == counts
    assert media_files(settings) == before
    # Renamed, the same config imports beside the first.
    plan = read_config(PILOT, audio_root).renamed(name="Pilot again", slug="Pilot Again")
    test = webmushra_import(plan=plan, audio_root=audio_root, system_prefix="again ")
    assert test.slug == "pilot-again"
    assert sorted(test.conditions.filter(role="system").values_list("label", "system__name")) == [
        ("sysA", "again sysA"),
        ("sysB", "again sysB"),
        ("sysC", "again sysC"),
    ]


def test_a_refusal_at_the_last_step_rolls_back_the_whole_import(db, audio_root, settings):
    # A stimuli key named like the hidden reference passes every check and the corpus, systems
    # and stimuli are written; creating the test then refuses the clash of condition names.
    text = PILOT.replace(", sysC: ", ", Hidden reference: ")
    message = refusal(audio_root, text)
    assert "two conditions have the same name" in message
    assert nothing_imported() and media_files(settings) == []


def test_an_audio_file_the_validator_refuses_is_named_with_its_page(db, audio_root):
    (audio_root / "audio" / "u03" / "sysB.wav").write_bytes(b"RIFF not really audio")
    message = refusal(audio_root, PILOT)
    assert "\n  - config.yaml, page 'u03', sysB: audio/u03/sysB.wav: " in message
    assert nothing_imported()


# --- the command --------------------------------------------------------------------------------


def test_the_command_prints_the_notes_and_the_tests_address(db, audio_root, tmp_path, capsys):
    project = Project.objects.create(name="Lab", slug="lab")
    config = config_file(tmp_path, PILOT, "pilot.yaml")
    call_command("import_webmushra", str(config), str(audio_root), "--project", str(project.pk))
    test = ListeningTest.objects.get(slug="tts_pilot")
    assert test.project == project and test.corpus.project == project
    out = capsys.readouterr().out
    assert "note: page 'welcome' (generic): not carried over" in out
    assert "Imported pilot.yaml as the draft MUSHRA (ITU-R BS.1534-3) test" in out
    assert f"/mushra/tests/{test.pk}/" in out and "/t/tts_pilot/" in out


def test_the_command_exits_with_2_and_one_line_per_problem(
    db, audio_root, tmp_path, capsys, monkeypatch
):
    # run_from_argv closes the database connections when done: not the test's own connection.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    text = PILOT.replace("audio/u02/sysB.wav", "../x.wav").replace("audio/u03/sysA.wav", "/x.wav")
    config = config_file(tmp_path, text, "pilot.yaml")
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(["manage.py", "import_webmushra", str(config), str(audio_root)])
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0] == "CommandError: pilot.yaml refused; nothing was imported"
    assert lines[1].startswith("  - pilot.yaml, page 'u02', stimuli.sysB: '../x.wav'")
    assert lines[2].startswith("  - pilot.yaml, page 'u03', stimuli.sysA: '/x.wav'")
    assert len(lines) == 3 and nothing_imported()


def test_the_command_refuses_an_unknown_project(db, audio_root, tmp_path):
    config = config_file(tmp_path, PILOT)
    with pytest.raises(CommandError, match="no project with id 999999") as refused:
        call_command("import_webmushra", str(config), str(audio_root), "--project", "999999")
    assert refused.value.returncode == 2 and nothing_imported()
