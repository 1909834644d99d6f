"""Starting a synthesis job from a system's page and cancelling it from the job's page: editors
only, the backend's refusals in the service's words, hostile input a form error, never a 500.

Jobs are planned and stored by the request; their batches are queued on commit, which a test's
transaction never reaches, so no worker is needed here (test_synthesis_jobs.py renders jobs)."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from evalsite.services import member_set, project_create
from synth_workers.models import Corpus, SynthesisJob, System
from synth_workers.services.synthesis import job_create
from tests.support.factories import SystemFactory
from tests.support.synthesis import corpus_with


@pytest.fixture
def lab(db):
    """A project with an espeak-ng system (built in, no files) and two corpora, its editor and
    viewer; another project with its own corpus, owned by a stranger."""
    make = get_user_model().objects.create_user
    users = {name: make(name, password="pw") for name in ("editor", "viewer", "stranger")}
    project = project_create(name="Lab A", owner=make("owner", password="pw"))
    member_set(project=project, username="editor", role="editor")
    member_set(project=project, username="viewer", role="viewer")
    other = project_create(name="Lab B", owner=users["stranger"])
    system = SystemFactory(name="espeak", project=project)
    corpora = [
        corpus_with(
            "The birch canoe slid on the smooth planks.",
            "Glue it.",
            name="Harvard",
            project=project,
        ),
        corpus_with(
            "When the sunlight strikes raindrops in the air.", name="Rainbow", project=project
        ),
        corpus_with("Not yours.", name="Secret of B", project=other),
    ]
    return users, system, corpora


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_data(of: Corpus, **fields) -> dict:
    return {"corpus": of.pk, "seed": "0", "use_prosody_reference": "on", **fields}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_an_editor_queues_a_two_style_job_from_the_form_and_lands_on_its_page(lab):
    users, system, (harvard, *_) = lab
    client = as_user(users["editor"])
    url = f"/synthesis/systems/{system.pk}/synthesize/"
    data = form_data(harvard, styles="neutral, excited", controls="speed=1.2\npitch=40", seed="7")
    response = client.post(url, data)
    job = SynthesisJob.objects.get()
    assert response.status_code == 302 and response.url == f"/synthesis/jobs/{job.pk}/"
    assert (job.total, job.grid, job.controls, job.seed) == (
        4,
        {"style": ["neutral", "excited"]},
        {"speed": 1.2, "pitch": 40},
        7,
    )
    assert job.created_by == users["editor"] and job.use_prosody_reference
    conditions = sorted((i.utterance.key, i.condition["style"]) for i in job.items.all())
    assert conditions == [
        ("u0", "excited"),
        ("u0", "neutral"),
        ("u1", "excited"),
        ("u1", "neutral"),
    ]
    page = page_text(client.get(response.url))
    assert f"Job {job.pk} is queued: 4 item(s) to render." in page
    assert 'id="job-cancel"' in page


def test_the_form_and_the_command_line_make_items_with_the_same_keys(lab):
    users, system, (harvard, *_) = lab
    as_user(users["editor"]).post(
        f"/synthesis/systems/{system.pk}/synthesize/",
        form_data(harvard, speakers="f3, m1", controls='{"speed": 1.5}'),
    )
    from_page = SynthesisJob.objects.get()
    from synth_workers.management.commands.synthesize import parse_pairs

    from_cli = job_create(
        system=system,
        corpus=harvard,
        grid=parse_pairs(["speaker=f3,m1"], "grid", lists=True),
        controls=parse_pairs(["speed=1.5"], "control", lists=False),
    )
    keys = {j.pk: set(j.items.values_list("key", flat=True)) for j in (from_page, from_cli)}
    assert keys[from_page.pk] == keys[from_cli.pk] and len(keys[from_cli.pk]) == 4


def test_the_form_offers_only_the_projects_corpora_and_says_what_the_backend_declares(lab):
    users, system, (harvard, rainbow, secret) = lab
    client = as_user(users["editor"])
    page = page_text(client.get(f"/synthesis/systems/{system.pk}/synthesize/"))
    assert "Harvard" in page and "Rainbow" in page and "Secret of B" not in page
    assert "Declared: disappointed, dj, excited, neutral, newscaster." in page  # its styles
    assert "Controls espeak-ng takes: speed, rate, pitch, range." in page
    assert "Native: en-us." in page
    assert re.search(r'<input type="checkbox" name="use_prosody_reference"[^>]* checked>', page)

    forged = client.post(f"/synthesis/systems/{system.pk}/synthesize/", form_data(secret))
    assert forged.status_code == 200
    assert "Select a valid choice" in page_text(forged)
    assert not SynthesisJob.objects.exists()


@pytest.mark.parametrize(
    ("fields", "refusal"),
    [
        (
            {"styles": "neutral, whisper"},
            "backend 'espeak-ng' has no style 'whisper' (it has neutral, newscaster, dj, "
            "excited, disappointed) (asked by utterance 'u0' {'style': 'whisper'})",
        ),
        (
            {"languages": "en-gb, en-uk"},
            "backend 'espeak-ng' has no language 'en-uk' (asked by utterance 'u0' "
            "{'language': 'en-uk'})",
        ),
        (
            {"controls": "loudness=3"},
            "backend 'espeak-ng' takes no control 'loudness' (it takes speed, rate, pitch, "
            "range) (asked by utterance 'u0')",
        ),
        ({"styles": "dj, excited, dj"}, """grid: 'style' lists "dj" twice"""),
        (
            {
                "speakers": ",".join(f"s{i}" for i in range(11)),
                "styles": ",".join(f"t{i}" for i in range(10)),
                "languages": ",".join(f"l{i}" for i in range(10)),
            },
            "grid: 1100 points; at most 1000 in one job",
        ),
    ],
    ids=["style", "language", "control", "twice", "points"],
)
def test_a_job_the_backend_cannot_render_keeps_the_form_with_the_services_words(
    lab, fields, refusal
):
    users, system, (harvard, *_) = lab
    response = as_user(users["editor"]).post(
        f"/synthesis/systems/{system.pk}/synthesize/", form_data(harvard, **fields)
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [refusal]
    assert refusal in page_text(response)
    assert not SynthesisJob.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"styles": "neu\x00tral"}, "styles", "Null characters are not allowed."),
        ({"controls": '{"spe\\u0000ed": 1}'}, "controls", "is not a name"),
        ({"controls": '{"speed": NaN}'}, "controls", "must be a number"),
        ({"controls": "speed=inf"}, "controls", "must be a number"),
        ({"controls": '{"speed": ' + "[" * 5000}, "controls", "not"),
        ({"controls": "speed"}, "controls", "expected NAME=VALUE"),
        ({"speakers": "nan"}, "speakers", "not a finite number"),
        ({"seed": str(2**32)}, "seed", "less than or equal to 2147483647"),
        ({"seed": "9" * 5000}, "seed", "Enter a whole number."),
        ({"seed": "-1"}, "seed", "greater than or equal to 0"),
        ({"styles": ",".join(f"s{i}" for i in range(10_000))}, "styles", "10000 values"),
        ({"languages": "x" * 101}, "languages", "over 100 chars"),
        ({"corpus": str(10**30)}, "corpus", "Select a valid choice"),
    ],
)
def test_hostile_input_is_a_form_error_not_a_server_error(lab, fields, field, message):
    users, system, (harvard, *_) = lab
    response = as_user(users["editor"]).post(
        f"/synthesis/systems/{system.pk}/synthesize/", form_data(harvard, **fields)
    )
    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    assert any(message in e for e in errors), errors
    assert not SynthesisJob.objects.exists()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"usable": False, "check_error": "espeak-ng: no such voice"}, "not usable yet"),
        ({"kind": "recording", "backend": ""}, "not a checkpoint"),
    ],
)
def test_a_system_that_cannot_synthesize_has_a_page_saying_why_and_no_form(lab, fields, reason):
    users, system, (harvard, *_) = lab
    System.objects.filter(pk=system.pk).update(**fields)
    client = as_user(users["editor"])
    url = f"/synthesis/systems/{system.pk}/synthesize/"
    page = page_text(client.get(url))
    assert reason in page and 'id="synthesize-form"' not in page
    assert client.post(url, form_data(harvard, styles="dj")).status_code == 200
    assert not SynthesisJob.objects.exists()
    assert 'id="synthesize"' not in page_text(client.get(f"/synthesis/systems/{system.pk}/"))


def test_the_system_page_offers_synthesis_to_editors_only(lab):
    users, system, _ = lab
    url = f"/synthesis/systems/{system.pk}/"
    assert f'href="{url}synthesize/"' in page_text(as_user(users["editor"]).get(url))
    assert 'id="synthesize"' not in page_text(as_user(users["viewer"]).get(url))
    assert as_user(users["viewer"]).get(f"{url}synthesize/").status_code == 403
    assert as_user(users["stranger"]).get(f"{url}synthesize/").status_code == 404


def test_an_editor_cancels_a_queued_job_and_a_viewer_cannot(lab):
    users, system, (harvard, *_) = lab
    job = job_create(system=system, corpus=harvard, grid={"style": ["dj", "excited"]})
    viewer = as_user(users["viewer"])
    assert 'id="job-cancel"' not in page_text(viewer.get(f"/synthesis/jobs/{job.pk}/"))
    assert viewer.post(f"/synthesis/jobs/{job.pk}/cancel").status_code == 403
    assert as_user(users["stranger"]).post(f"/synthesis/jobs/{job.pk}/cancel").status_code == 404
    job.refresh_from_db()
    assert job.status == "queued"

    editor = as_user(users["editor"])
    response = editor.post(f"/synthesis/jobs/{job.pk}/cancel", follow=True)
    assert response.redirect_chain == [(f"/synthesis/jobs/{job.pk}/", 302)]
    page = page_text(response)
    assert f"Job {job.pk} is cancelled" in page and 'id="job-cancel"' not in page
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert set(job.items.values_list("status", flat=True)) == {"cancelled"}


def test_cancelling_a_finished_job_changes_nothing_and_says_so(lab):
    users, system, (harvard, *_) = lab
    job = job_create(system=system, corpus=harvard)
    SynthesisJob.objects.filter(pk=job.pk).update(status="done")
    response = as_user(users["editor"]).post(f"/synthesis/jobs/{job.pk}/cancel", follow=True)
    assert f"Job {job.pk} is already done." in page_text(response)
    assert SynthesisJob.objects.get(pk=job.pk).status == "done"
    assert set(job.items.values_list("status", flat=True)) == {"pending"}


def test_the_grid_hints_offer_sampled_voices_where_the_backend_can_draw_them():
    from synth_workers.backends import get_backend, joe_voice_files
    from synth_workers.job_forms import grid_hints

    kokoro = grid_hints(get_backend("kokoro").describe({}, {}))["speakers"]
    assert "jm_kumo" in kokoro and "sampled:<seed>" in kokoro
    piper = grid_hints(get_backend("piper").describe(joe_voice_files(), {}))["speakers"]
    assert "sampled" not in piper
