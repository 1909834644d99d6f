"""Unique names and slugs: a clash is refused with InputError naming it, never an IntegrityError,
also when another request inserts the same name between the check and the insert."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from evalsite.errors import InputError
from synth_workers.models import Corpus, System
from synth_workers.services.imports import corpus_import
from synth_workers.services.registration import system_register
from tests.support.services import need_postgres


def test_names_that_slugify_alike_get_their_own_slugs(db):
    first = system_register(name="Voice A", backend="espeak-ng")
    second = system_register(name="voice-a", backend="espeak-ng")
    third = corpus_import(
        name="voice a", manifest_name="m.csv", manifest_data=b"key,text\nu1,Hello.\n"
    )
    assert (first.slug, second.slug) == ("voice-a", "voice-a-2")
    assert third.corpus.name == "voice a"


def test_a_taken_name_is_refused_by_name(db):
    system_register(name="Voice A", backend="espeak-ng")
    with pytest.raises(InputError, match="a system named 'Voice A' already exists"):
        system_register(name="Voice A", backend="espeak-ng")
    assert System.objects.count() == 1


def register(name: str) -> None:
    system_register(name=name, backend="espeak-ng")


def import_corpus(name: str) -> None:
    corpus_import(name=name, manifest_name="m.csv", manifest_data=b"key,text\nu1,Hello.\n")


def insert_system(name: str) -> None:
    System.objects.create(name=name, slug="taken-meanwhile", kind="recording")


def insert_corpus(name: str) -> None:
    Corpus.objects.create(name=name)


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("service", "insert", "message"),
    [
        (register, insert_system, "a system named 'race' already exists"),
        (import_corpus, insert_corpus, "a corpus named 'race' already exists"),
    ],
)
def test_a_name_taken_by_a_concurrent_request_is_refused_not_crashed(
    transactional_db, service, insert, message
):
    """The other transaction inserts 'race' and holds; ours checks (nothing visible yet), then
    its insert waits on the unique index; the other commits; ours must refuse, by name."""
    need_postgres()  # SQLite serialises writers: this interleaving cannot happen there
    inserted, release, outcome = threading.Event(), threading.Event(), {}

    def other() -> None:
        try:
            with transaction.atomic():
                insert("race")
                inserted.set()
                release.wait(30)
        finally:
            connections.close_all()

    def ours() -> None:
        try:
            service("race")
        except Exception as exc:  # the assertion below says which
            outcome["error"] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=other), threading.Thread(target=ours)]
    threads[0].start()
    assert inserted.wait(30)
    threads[1].start()
    deadline = time.monotonic() + 30
    while not waiting_on_a_lock():  # ours has passed its check and waits at the insert
        assert time.monotonic() < deadline and threads[1].is_alive(), outcome
        time.sleep(0.02)
    release.set()
    for thread in threads:
        thread.join(30)
    error = outcome.get("error")
    assert isinstance(error, InputError), repr(error)
    assert str(error) == message
