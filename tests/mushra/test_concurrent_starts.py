"""Property: however many listeners start at once, the design stays balanced and nothing deadlocks.

Real threads, each with its own database connection, start sessions on one test at the same time
(on PostgreSQL in CI, where row locks and deadlocks are real; on SQLite writers queue).
"""

import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mushra.models import ListeningTest, Session, Trial
from mushra.services import SystemCondition, listening_test_create, listening_test_open
from mushra.sessions import session_start, trial_submit
from synth_workers.models import System
from tests.support.listening import SYSTEM_NAMES, load_matches_trials, prepared_corpus
from tests.support.services import need_postgres

N_ITEMS = 6
_made = Counter()


@pytest.fixture
def corpus(transactional_db, tmp_path):
    return prepared_corpus(tmp_path / "audio", n_items=N_ITEMS)


def _new_test(corpus, items: int, per_session: int) -> ListeningTest:
    _made["tests"] += 1
    test = listening_test_create(
        name="Concurrent",
        slug=f"concurrent-{_made['tests']}",
        corpus=corpus,
        systems=[SystemCondition(System.objects.get(name=n)) for n in SYSTEM_NAMES],
        utterances=list(corpus.utterances.order_by("key"))[:items],
        trials_per_session=per_session,
        training=False,
        ratings_wanted=10**6,
    )
    return listening_test_open(test=test)


def _start_all(test: ListeningTest, threads: int, per_thread: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def run():
        try:
            barrier.wait()
            for _ in range(per_thread):
                session_start(test=test)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a start never finished (deadlock?)"
    return errors


@pytest.mark.django_db(transaction=True)
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    items=st.integers(2, N_ITEMS),
    per_session=st.integers(1, N_ITEMS),
    threads=st.integers(2, 8),
    per_thread=st.integers(1, 4),
)
def test_concurrent_starts_stay_balanced_and_never_deadlock(
    corpus, items, per_session, threads, per_thread
):
    per_session = min(per_session, items)
    test = _new_test(corpus, items, per_session)
    errors = _start_all(test, threads, per_thread)
    assert errors == []
    sessions = Session.objects.filter(test=test)
    assert sorted(sessions.values_list("number", flat=True)) == list(
        range(1, threads * per_thread + 1)
    )
    counts = Counter(
        Trial.objects.filter(session__test=test).values_list("utterance_id", flat=True)
    )
    per_item = [counts.get(u.pk, 0) for u in test.chosen_utterances()]
    assert sum(per_item) == threads * per_thread * per_session
    assert max(per_item) - min(per_item) <= 1, per_item
    assert load_matches_trials(test)


@pytest.mark.django_db(transaction=True)
def test_saving_a_rating_does_not_wait_for_the_tests_lock(corpus):
    """While a session start holds the test's row (its allocation), ratings still go through."""
    need_postgres()
    test = _new_test(corpus, items=2, per_session=2)
    session = session_start(test=test)
    Session.objects.filter(pk=session.pk).update(stage="trials")
    trial = session.trials.get(position=0)
    ratings = {s.public_id: {"score": 100} for s in trial.signals.all()}
    locked, release = threading.Event(), threading.Event()

    def hold_the_test_row():
        try:
            with transaction.atomic():
                ListeningTest.objects.select_for_update().get(pk=test.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_test_row)
    holder.start()
    try:
        assert locked.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")  # waiting on the lock fails the test
        trial_submit(token=session.token, position=0, key="while-locked", ratings=ratings)
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert Trial.objects.get(pk=trial.pk).submitted_at is not None
