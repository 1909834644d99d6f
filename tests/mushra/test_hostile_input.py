"""Hostile input on every listener endpoint: a 4xx with a message, never a 5xx, nothing changed.

Hypothesis generates bodies, headers, query strings and paths; the Django test client raises any
exception a view lets escape, so a would-be 500 fails the test. Every refusal is checked to leave
the stored data exactly as it was. CI runs this on PostgreSQL, where NUL characters and 32-bit
integer columns are errors of their own.
"""

import json
import uuid
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mushra.models import ItemLoad, Rating, Session, Trial
from tests.support.listening import at_trials

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
hostile_text = st.text(max_size=40) | st.sampled_from(["\x00", "a\x00b", "\ud800"[:0] + "é" * 5])
huge_ints = st.sampled_from([2**31, 2**31 - 1, 2**63, -(2**63) - 1, 10**30, 10**4000])


def snapshot() -> tuple:
    """What a refused request must leave untouched."""
    return (
        sorted(Session.objects.values_list("pk", "stage", "questionnaire", "participant_id")),
        sorted(Trial.objects.values_list("pk", "submitted_at", "submission_key")),
        sorted(Rating.objects.values_list("pk", "score", "plays", "listening_ms")),
        sorted(ItemLoad.objects.values_list("pk", "assigned")),
    )


def check(response, before) -> None:
    assert response.status_code < 500
    if response.status_code >= 400:
        assert snapshot() == before, f"a refused request ({response.status_code}) changed data"
        if response["Content-Type"].startswith("application/json"):
            assert isinstance(response.json()["error"], str)


@pytest.fixture
def rating_session(mushra_test):
    return at_trials(mushra_test)


def _ratings_bodies(session):
    trial = session.trials.get(position=1)
    ids = list(trial.signals.values_list("public_id", flat=True))
    rating = st.fixed_dictionaries(
        {},
        optional={
            "score": json_values | huge_ints | st.integers(-5, 105),
            "plays": json_values | huge_ints,
            "listening_ms": json_values | huge_ints,
        },
    )
    ratings = st.dictionaries(st.sampled_from(ids) | st.text(max_size=8), rating | json_values)
    return st.fixed_dictionaries(
        {},
        optional={
            "trial": st.integers(-3, 6) | huge_ints | json_values,
            "key": hostile_text | st.just(uuid.uuid4().hex) | json_values,
            "ratings": ratings | json_values,
        },
    )


@FUZZ
@given(data=st.data())
def test_generated_rating_bodies_get_a_4xx_and_change_nothing(client, rating_session, data):
    body = data.draw(_ratings_bodies(rating_session))
    raw = json.dumps(body).encode()
    before = snapshot()
    response = client.post(
        f"/s/{rating_session.token}/ratings", raw, content_type="application/json"
    )
    check(response, before)


@FUZZ
@given(
    raw=st.binary(max_size=300)
    | st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,  # nested deeper than any parser's stack
            b'{"trial": 1, "key": "k' + b"\xff\xfe" + b'", "ratings": {}}',  # not UTF-8
            b'{"trial": ' + b"9" * 5000 + b"}",  # an integer past Python's 4,300-digit limit
            b'{"trial": 1, "key": "\\u0000\\u0000\\u0000\\u0000", "ratings": {}}',
            b"x" * 70_000,  # over the body limit
            b"",
            b"null",
        ]
    )
)
def test_generated_raw_bodies_get_a_4xx_and_change_nothing(client, rating_session, raw):
    before = snapshot()
    response = client.post(
        f"/s/{rating_session.token}/ratings", raw, content_type="application/json"
    )
    check(response, before)
    assert response.status_code in (400, 413)


@FUZZ
@given(
    value=st.text(max_size=30)
    | st.from_regex(r"\Abytes=\d{0,5000}-\d{0,5000}\Z")
    | st.sampled_from(["bytes=" + "9" * 6000 + "-", "bytes=-" + "1" * 5000, "bytes=5-2"])
)
def test_generated_range_headers_never_break_the_audio(client, rating_session, value):
    public_id = rating_session.trials.get(position=1).signals.first().public_id
    before = snapshot()
    response = client.get(f"/s/{rating_session.token}/audio/{public_id}", HTTP_RANGE=value)
    check(response, before)
    assert response.status_code in (200, 206, 416)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["PROLIFIC_PID", "SESSION_ID", "workerId", "assignmentId", "x"])
        | st.text(max_size=5),
        hostile_text | st.text(min_size=190, max_size=260),
        max_size=4,
    ),
    method=st.sampled_from(["get", "post"]),
)
def test_generated_entry_links_never_break_the_entry(client, mushra_test, params, method):
    before = snapshot()
    query = urlencode(params, quote_via=quote)
    response = getattr(client, method)(f"/t/{mushra_test.slug}/?{query}")
    check(response, before)
    client.cookies.clear()


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["age_band", "headphones", "native_language", "comment"])
        | st.text(max_size=5),
        hostile_text | st.sampled_from(["25-34", "earbuds"]),
        max_size=5,
    )
)
def test_generated_questionnaires_get_a_message_and_change_nothing(client, rating_session, form):
    session = rating_session
    Session.objects.filter(pk=session.pk).update(
        stage="questionnaire", questionnaire={}, finished_at=None
    )
    before = snapshot()
    response = client.post(f"/s/{session.token}/questionnaire", form)
    check(response, before)


@FUZZ
@given(
    token=hostile_text | st.just("A" * 65),
    tail=st.sampled_from(["", "consent", "begin", "questionnaire", "trials.json", "ratings"]),
    method=st.sampled_from(["get", "post"]),
)
def test_generated_session_paths_are_a_404_not_an_error(client, mushra_test, token, tail, method):
    before = snapshot()
    response = getattr(client, method)(f"/s/{quote(token, safe='')}/{tail}")
    check(response, before)
    audio = client.get(f"/s/{quote(token, safe='')}/audio/{quote(token, safe='')}")
    check(audio, before)
    bundle = client.get(f"/s/{quote(token, safe='')}/trials/{quote(token, safe='')}/audio")
    check(bundle, before)


def test_a_trial_position_beyond_its_column_is_a_404(client, rating_session):
    for position in ["99999", "4294967296", "1" * 400, "-1"]:
        response = client.get(f"/s/{rating_session.token}/trials/{position}/audio")
        assert response.status_code == 404
    assert client.get(f"/s/{rating_session.token}/trials/9999/audio").status_code == 404


def test_the_issues_examples_are_refused_in_plain_words(client, rating_session):
    trial = rating_session.trials.get(position=1)
    ratings = {s.public_id: {"score": 100, "plays": 2**31} for s in trial.signals.all()}
    url = f"/s/{rating_session.token}/ratings"
    body = json.dumps({"trial": 1, "key": uuid.uuid4().hex, "ratings": ratings})
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert "plays and listening_ms must be whole numbers from 0 to 2147483647" in str(
        response.json()["problems"]
    )
    nested = client.post(url, b"[" * 50_000, content_type="application/json")
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["error"]
    latin = client.post(url, b'{"key": "\xe9"}', content_type="application/json")
    assert latin.status_code == 400 and "not UTF-8" in latin.json()["error"]
    nul_key = json.dumps({"trial": 1, "key": "\x00" * 16, "ratings": {}})
    assert (
        "idempotency key"
        in client.post(url, nul_key, content_type="application/json").json()["error"]
    )
    big = client.post(url, b" " * 70_000, content_type="application/json")
    assert big.status_code == 413
    assert not Rating.objects.exists()
