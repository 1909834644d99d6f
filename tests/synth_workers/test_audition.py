"""The audition grid and members' audio: what a scientist sees and hears of a corpus' stimuli
before testing them, and what members of other projects cannot reach."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from synth_workers.models import Stimulus, Utterance
from tests.support.factories import StimulusFactory, SystemFactory, UtteranceFactory
from tests.support.roles import login_client

# `world`: projects A and B with a corpus each, and a user of every role (tests/conftest.py).


def grid_url(corpus, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("synth_workers:audition", args=[corpus.pk]) + (f"?{query}" if query else "")


def audio_url(stim) -> str:
    return reverse("synth_workers:stimulus-audio", args=[stim.pk])


def provenance_url(stim) -> str:
    return reverse("synth_workers:stimulus-provenance", args=[stim.pk])


def labels(response) -> list[str]:
    return [c.label for c in response.context["grid"].columns]


def row_keys(response) -> list[str]:
    return [r.utterance.key for r in response.context["grid"].rows]


def test_grid_has_a_cell_for_every_stimulus_of_the_corpus(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    response = login_client(users, "editor").get(grid_url(corpus))
    assert response.status_code == 200
    recordings = corpus.recordings.name
    assert labels(response)[0] == recordings  # the reference first, then its anchors
    assert sorted(labels(response)) == sorted(
        [
            recordings,
            f"{recordings} · low anchor (3.5 kHz)",
            f"{recordings} · mid anchor (7 kHz)",
            "Alpha-TTS",
        ]
    )
    assert row_keys(response) == ["item0", "item1"]
    html = response.content.decode()
    for stim in Stimulus.objects.filter(utterance__corpus=corpus):
        assert f'data-stimulus="{stim.pk}"' in html
        assert f'data-audio="{audio_url(stim)}"' in html
        assert f'data-provenance="{provenance_url(stim)}"' in html


def test_a_synthesized_system_is_one_column_though_each_item_has_its_own_key(world):
    """A synthesis item's key (the stimulus' condition_key) names its utterance: the grid
    groups by system and condition, so a rendered corpus is one column per grid point."""
    users, objects = world
    corpus = objects["own"]["corpus"]
    system = SystemFactory(name="Rendered-TTS", project=corpus.project)
    for n, utterance in enumerate(corpus.utterances.order_by("key")):
        for style in ("dj", "news"):
            StimulusFactory(
                system=system, utterance=utterance, condition={"style": style},
                condition_key=f"item-key-{n}-{style}",
            )  # fmt: skip
    response = login_client(users, "editor").get(grid_url(corpus))
    assert [label for label in labels(response) if label.startswith("Rendered-TTS")] == [
        "Rendered-TTS · style=dj",
        "Rendered-TTS · style=news",
    ]
    for row in response.context["grid"].rows:
        cells = [c for c in row.cells if c is not None and c.system_id == system.pk]
        assert [c.condition["style"] for c in cells] == ["dj", "news"]


def test_failed_cell_shows_its_reason_and_pending_cell_says_pending(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    stimuli = Stimulus.objects.filter(utterance__corpus=corpus, system__name="Alpha-TTS")
    stimuli.filter(utterance__key="item0").update(
        status="failed", error="backend crashed: CUDA out of memory"
    )
    stimuli.filter(utterance__key="item1").update(status="pending")
    html = login_client(users, "editor").get(grid_url(corpus)).content.decode()
    assert 'title="backend crashed: CUDA out of memory"' in html
    assert 'data-error="backend crashed: CUDA out of memory"' in html
    assert ">failed</button>" in html
    assert ">pending</span>" in html


def test_filters_narrow_rows_and_columns_and_stay_in_the_form(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    client = login_client(users, "editor")
    alpha = Stimulus.objects.filter(utterance__corpus=corpus, system__name="Alpha-TTS")
    Utterance.objects.filter(corpus=corpus, key="item0").update(style="calm", speaker="joe")
    # Alpha-TTS also renders item1 in the style "dj", whatever the utterance's own style.
    dj = alpha.get(utterance__key="item1")
    StimulusFactory(system=dj.system, utterance=dj.utterance, condition={"style": "dj"})

    by_system = client.get(grid_url(corpus, system=dj.system_id))
    assert labels(by_system) == ["Alpha-TTS", "Alpha-TTS · style=dj"]
    assert f'<option value="{dj.system_id}" selected>' in by_system.content.decode()

    by_condition = client.get(grid_url(corpus, style="dj"))
    assert labels(by_condition) == ["Alpha-TTS · style=dj"]
    assert row_keys(by_condition) == ["item1"]
    assert "<option selected>dj</option>" in by_condition.content.decode()

    by_utterance = client.get(grid_url(corpus, style="calm", speaker="joe"))
    assert "Alpha-TTS · style=dj" not in labels(by_utterance)
    assert "Alpha-TTS" in labels(by_utterance)
    assert row_keys(by_utterance) == ["item0"]

    assert row_keys(client.get(grid_url(corpus, style="opera"))) == []


def test_rows_are_paginated_and_pages_keep_the_filters(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    extra = Utterance.objects.bulk_create(
        Utterance(corpus=corpus, key=f"extra{i:03}", text="More.", language="en") for i in range(60)
    )
    alpha = Stimulus.objects.filter(utterance__corpus=corpus, system__name="Alpha-TTS").first()
    Stimulus.objects.bulk_create(
        Stimulus(system_id=alpha.system_id, utterance=u, policy_key=alpha.policy_key) for u in extra
    )
    client = login_client(users, "editor")
    first = client.get(grid_url(corpus))
    assert len(row_keys(first)) == 50
    assert 'href="?page=2"' in first.content.decode()
    assert len(row_keys(client.get(grid_url(corpus, page=2)))) == 12
    filtered = client.get(grid_url(corpus, system=alpha.system_id))
    assert len(row_keys(filtered)) == 50
    assert f'href="?system={alpha.system_id}&amp;page=2"' in filtered.content.decode()


def test_grid_reads_take_as_many_queries_for_ten_utterances_as_for_two(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    client = login_client(users, "editor")

    captured_sql = []

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(grid_url(corpus)).status_code == 200
        captured_sql.append([q["sql"][:300] for q in captured])
        return len(captured)

    two = queries()
    templates = list(Stimulus.objects.filter(utterance__corpus=corpus, utterance__key="item0"))
    for i in range(8):
        utterance = UtteranceFactory(corpus=corpus, key=f"more{i}")
        Stimulus.objects.bulk_create(
            Stimulus(
                system_id=t.system_id,
                utterance=utterance,
                condition=t.condition,
                condition_key=t.condition_key,
                policy=t.policy,
                policy_key=t.policy_key,
                status="failed",
                error="no audio",
            )
            for t in templates
        )
    assert len(row_keys(client.get(grid_url(corpus)))) == 10
    assert queries() == two, "\n".join(captured_sql[-1])


@pytest.mark.parametrize("role", ["viewer", "editor", "owner"])
def test_members_may_listen_to_a_ready_stimulus_and_read_its_provenance(world, role):
    users, objects = world
    stim = Stimulus.objects.filter(utterance__corpus=objects["own"]["corpus"]).first()
    client = login_client(users, role)
    assert client.get(grid_url(objects["own"]["corpus"])).status_code == 200
    audio = client.get(audio_url(stim))
    assert audio.status_code == 200
    assert audio["Content-Type"] == "audio/flac"
    assert "private" in audio["Cache-Control"]
    assert b"".join(audio.streaming_content)[:4] == b"fLaC"
    provenance = client.get(provenance_url(stim))
    assert provenance.status_code == 200
    data = json.loads(provenance.content)
    assert data["sha256"] == stim.sha256
    assert data["provenance"] == stim.provenance
    assert "private" in provenance["Cache-Control"]


def test_audio_of_a_stimulus_not_ready_is_not_found_with_a_reason(world):
    users, objects = world
    stim = Stimulus.objects.filter(utterance__corpus=objects["own"]["corpus"]).first()
    Stimulus.objects.filter(pk=stim.pk).update(status="failed", error="the checkpoint crashed")
    response = login_client(users, "viewer").get(audio_url(stim))
    assert response.status_code == 404
    assert "not ready" in response.json()["error"]
    assert "the checkpoint crashed" in response.json()["error"]


@pytest.mark.parametrize("role", ["viewer", "editor", "owner"])
def test_another_projects_corpus_and_stimuli_are_not_found(world, role):
    users, objects = world
    other = objects["other"]["corpus"]
    stim = Stimulus.objects.filter(utterance__corpus=other).first()
    client = login_client(users, role)
    assert client.get(grid_url(other)).status_code == 404
    assert client.get(audio_url(stim)).status_code == 404
    assert client.get(provenance_url(stim)).status_code == 404


def test_outsider_and_anonymous_cannot_reach_the_grid_or_the_audio(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    stim = Stimulus.objects.filter(utterance__corpus=corpus).first()
    outsider = login_client(users, "outsider")
    for url in (grid_url(corpus), audio_url(stim), provenance_url(stim)):
        assert outsider.get(url).status_code == 404
        anonymous = login_client(users, "anonymous").get(url)
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith(reverse("login"))


def test_malformed_filters_are_ignored_rather_than_an_error(world):
    users, objects = world
    corpus = objects["own"]["corpus"]
    url = grid_url(corpus, system="%C2%B2", style="a%00b", page="x") + "&system=" + "9" * 30
    response = login_client(users, "editor").get(url)
    assert response.status_code == 200
    assert row_keys(response) == []  # "ab" matches no style
    response = login_client(users, "editor").get(grid_url(corpus, system="9" * 30, page="x"))
    assert row_keys(response) == ["item0", "item1"]


def test_every_anchor_the_preparation_makes_has_a_readable_column_name():
    from synth_workers.audio.pipeline import ANCHORS
    from synth_workers.audition import ANCHOR_NAMES

    assert set(ANCHOR_NAMES) == set(ANCHORS)
