"""Writes of a listener's session: start it, move it through its stages, save its ratings.

Built for a crowd (DESIGN.md §11): hundreds of listeners arrive within a minute at a test that may
hold 10^5 sessions. So starting a session reads one load row per item (``ItemLoad``), never the
test's trials, and holds a lock only while it allocates: the session number and the items, in one
short transaction of its own. The rows of the session are written afterwards, in bulk, without it.

The stage machine (consent → instructions → trials → questionnaire → done) is enforced here: a
request that belongs to another stage is a ``StageError`` (HTTP 409), and changes nothing.

Every refusal is an ``InputError`` worded for the listener's browser, which shows it, and leaves
the database as it was.
"""

import functools
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from evalsite.errors import InputError
from mushra import attention, design, sql, test_types
from mushra.layout import TestLayout, listening_test_layout
from mushra.models import (
    AttentionCheck,
    Condition,
    ItemLoad,
    ListeningTest,
    Rating,
    Session,
    Trial,
    TrialSignal,
)
from mushra.selectors import returning_session
from mushra.trap_speech import TRAP_ANSWER

Stage = Session.Stage
STAGES = [
    Stage.CONSENT,
    Stage.SCREENING,
    Stage.INSTRUCTIONS,
    Stage.TRIALS,
    Stage.QUESTIONNAIRE,
    Stage.DONE,
]
MAX_POSITION = 32767  # Trial.position is a small integer column
MAX_COUNT = 2**31 - 1  # plays and listening_ms are 32-bit integer columns on PostgreSQL
RELEASE_BATCH = 50  # idle sessions given back per start, so a start never does unbounded work


class StageError(InputError):
    """The session is not at the stage this request belongs to (HTTP 409)."""

    def __init__(self, session: Session, message: str) -> None:
        super().__init__(message)
        self.stage = session.stage


class TestFull(InputError):
    """Every item already has the ratings the scientist asked for."""


class ParticipantTaken(InputError):
    """This participant id already has a session of the test."""


def stage_passed(session: Session, stage: str) -> bool:
    return STAGES.index(session.stage) > STAGES.index(stage)


# --- Entering a test: resume or start ----------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """What an entry request comes to: a session to go to (``started`` when it is new), or why
    none: "taken" (the participant id has a session this request may not resume), "full",
    "closed"; nothing at all when no start was asked for and there is nothing to resume."""

    session: Session | None = None
    started: bool = False
    refusal: str = ""


def session_enter(
    *,
    test: ListeningTest,
    start: bool,
    cookie_token: str = "",
    participant_id: str = "",
    participant_source: str = "",
    resume_value: str = "",
    crowd: dict[str, str] | None = None,
) -> Entry:
    """The one place that decides between resuming and starting: the session this request may
    resume (``selectors.returning_session``: a participant id alone never opens one), else a new
    session when ``start`` (the listener pressed "start"), else nothing yet."""
    found = returning_session(
        test, participant_id=participant_id, resume_value=resume_value, cookie_token=cookie_token
    )
    if found.session or found.taken or not start:
        return Entry(session=found.session, refusal="taken" if found.taken else "")
    try:
        session = session_start(
            test=test,
            participant_id=participant_id,
            participant_source=participant_source,
            resume_value=resume_value,
            crowd=crowd,
        )
    except TestFull:
        return Entry(refusal="full")
    except ParticipantTaken:  # their other request won the race
        return Entry(refusal="taken")
    except InputError:  # closed between the page and the click
        return Entry(refusal="closed")
    return Entry(session=session, started=True)


# --- Starting a session -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Allocation:
    number: int
    plan: list[design.TrialPlan]
    counted: list[int]  # items whose load this session added to (given back if the start fails)
    catch: dict[int, str]  # attention checks: position -> the condition playing the copy
    x: dict[int, int]  # ABX: position -> the stimulus X plays (A's or B's)


def session_start(
    *,
    test: ListeningTest,
    participant_id: str = "",
    participant_source: str = "",
    resume_value: str = "",
    crowd: dict[str, str] | None = None,
    preview: bool = False,
) -> Session:
    """A new session: the least-rated items in a balanced order, its own opaque signal ids.

    A preview (a scientist trying the test) may run on a draft and counts for nothing. A
    participant id that already has a session is refused (``ParticipantTaken``): resuming is
    ``session_enter``'s decision, made on something only that participant has."""
    if test.status != ListeningTest.Status.OPEN and not (
        preview and test.status == ListeningTest.Status.DRAFT
    ):
        raise InputError("this listening test is not open")
    layout = listening_test_layout(test)
    seed = design.new_seed()
    allocation = _allocate(test, layout, seed, counted=not preview)
    try:
        return _create_session(
            test=test,
            layout=layout,
            allocation=allocation,
            seed=seed,
            participant_id=participant_id[:200] if not preview else "",
            participant_source=participant_source[:50],
            resume_key=Session.resume_key_for(resume_value),
            crowd=crowd or {},
            preview=preview,
        )
    except Exception as exc:  # the items it took go back, whatever stopped it
        _give_back(test, allocation.counted)
        if isinstance(exc, IntegrityError) and participant_id:  # their other request won
            raise ParticipantTaken("this participant has already started the test") from None
        raise


def _allocate(test: ListeningTest, layout: TestLayout, seed: int, counted: bool) -> _Allocation:
    """The one critical section of a start: a session number and the items, a few rows locked.

    Bumping the test's counter locks its row until this transaction commits, so concurrent starts
    read and bump the item loads one after another: a burst of listeners still spreads over the
    items. Nothing else happens under the lock."""
    trials = test.trials_per_session or len(layout.utterances)
    kind = test_types.of(test)
    if problems := attention.problems(layout.roles, test.attention_checks, kind.hidden_reference):
        raise InputError(problems[0])
    if counted:
        _release_idle(test)  # before the lock: the common case is one indexed read
    with transaction.atomic():
        number = _next_number(test)
        if counted:
            load = dict(ItemLoad.objects.filter(test=test).values_list("utterance_id", "assigned"))
            if load and min(load.values()) >= test.ratings_wanted:
                raise TestFull("this listening test has all the ratings it needs")
        else:
            load = dict.fromkeys(layout.utterances, 0)
        plan = design.session_plan(
            load=load,
            conditions=layout.condition_keys,
            trials=trials,
            session_number=number,
            seed=seed,
        )
        if kind.pair:
            plan = design.pair_trials(plan, layout.condition_keys, number, seed)
        if test.training:
            practice = _training_item(load, plan, seed)
            order = design.condition_order(layout.condition_keys, design.trial_rng(seed, -1))
            order = order[:2] if kind.pair else order  # practise on one pair
            plan = [design.TrialPlan(item=practice, conditions=order), *plan]
        items = [p.item for p in plan[1 if test.training else 0 :]] if counted else []
        if items:
            ItemLoad.objects.filter(test=test, utterance_id__in=items).update(
                assigned=F("assigned") + 1
            )
    plan, catch = _with_catch_trials(test, layout, plan, seed)
    x = _x_stimuli(layout, plan, seed) if kind.x else {}
    return _Allocation(number=number, plan=plan, counted=items, catch=catch, x=x)


def _x_stimuli(layout: TestLayout, plan: list, seed: int) -> dict[int, int]:
    """ABX: what X plays in each trial, A's or B's stimulus, drawn from the session's seed."""
    out = {}
    for position, trial in enumerate(plan):
        key = trial.conditions[design.trial_rng(seed, position).randrange(2)]
        out[position] = layout.stimuli[(int(key), trial.item)]
    return out


def _with_catch_trials(test: ListeningTest, layout: TestLayout, plan: list, seed: int):
    """The plan with the test's attention checks slotted in among the real trials, and which
    condition plays the degraded copy in each (``mushra.attention``). Catch trials are not part
    of the design: no item load counts them."""
    if not test.attention_checks:
        return plan, {}
    real = plan[1:] if test.training else plan
    catches = attention.catch_plan(real, layout.roles, test.attention_checks, seed)
    ordered = attention.interleave(plan, catches, practice=test.training)
    catch = {position: key for position, (_, key) in enumerate(ordered) if key is not None}
    return [p for p, _ in ordered], catch


def _next_number(test: ListeningTest) -> int:
    """Bump the test's session counter and read it in one statement (the row stays locked until
    the allocation commits)."""
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_NUMBER, [test.pk])
        return cursor.fetchone()[0]


_NEXT_NUMBER = (
    f"UPDATE {ListeningTest._meta.db_table} SET sessions_allocated = sessions_allocated + 1"
    " WHERE id = %s RETURNING sessions_allocated"
)


def _create_session(
    *, test, layout: TestLayout, allocation: _Allocation, seed: int, **fields
) -> Session:
    """The session's rows, in three statements whatever the number of trials and signals."""
    now = timezone.now()
    with transaction.atomic():
        session = Session.objects.create(
            test=test,
            token=secrets.token_urlsafe(24),
            number=allocation.number,
            seed=seed,
            last_active_at=now,
            **fields,
        )
        trials = Trial.objects.bulk_create(
            Trial(
                session=session,
                position=position,
                utterance_id=trial_plan.item,
                training=test.training and position == 0,
                catch=position in allocation.catch,
                reference_public_id=_public_id(),
                reference_stimulus_id=allocation.x.get(position),
            )
            for position, trial_plan in enumerate(allocation.plan)
        )
        TrialSignal.objects.bulk_create(
            TrialSignal(
                trial=trial,
                condition_id=int(key),
                # In a catch trial one system's signal is flagged: ``delivery`` serves a
                # degraded copy of its stimulus (same duration as in any other trial).
                stimulus_id=layout.stimuli[(int(key), trial_plan.item)],
                public_id=_public_id(),
                order=order,
                catch=catch,
            )
            for trial, trial_plan in zip(trials, allocation.plan, strict=True)
            for order, key in enumerate(trial_plan.conditions)
            for catch in [key == allocation.catch.get(trial.position)]
        )
    return session


def _public_id() -> str:
    # 128 random bits: unguessable, and unrelated to anything stored.
    return secrets.token_urlsafe(16)


def _training_item(load: dict[int, int], plan: list, seed: int) -> int:
    """Practise on an utterance this session will not rate, where there is one."""
    used = {t.item for t in plan}
    spare = sorted(set(load) - used)
    pool = spare or sorted(load)
    return pool[design.trial_rng(seed, -2).randrange(len(pool))]


def _give_back(test: ListeningTest, items: list[int]) -> None:
    if items:
        ItemLoad.objects.filter(test=test, utterance_id__in=items).update(
            assigned=F("assigned") - 1
        )


def _release_idle(test: ListeningTest) -> None:
    """Give back the unrated items of sessions idle past the test's limit (a few per call).

    Runs just before an allocation. When there is something to give back it takes the test's row
    first, as allocations do, so item loads only ever change under that one lock (no deadlock
    between two orders of item rows); the sessions are locked too (skipping any in use, which are
    not idle) so a late submission sees the release."""
    cutoff = timezone.now() - timedelta(minutes=test.abandon_after_minutes)
    candidates = Session.objects.filter(
        test=test,
        preview=False,
        finished_at__isnull=True,
        released_at__isnull=True,
        last_active_at__lt=cutoff,
    ).order_by()
    if not candidates.exists():  # the partial index answers this without a lock
        return
    with transaction.atomic():
        list(ListeningTest.objects.select_for_update().filter(pk=test.pk).values_list("pk"))
        idle = list(
            candidates.select_for_update(skip_locked=True).values_list("pk", flat=True)[
                :RELEASE_BATCH
            ]
        )
        if idle:
            _release(test, idle)


def _release(test: ListeningTest, idle: list[int]) -> None:
    unrated = (
        Trial.objects.filter(
            session__in=idle, training=False, catch=False, submitted_at__isnull=True
        )
        .values_list("utterance_id")
        .annotate(n=Count("pk"))
    )
    for utterance_id, n in unrated:
        ItemLoad.objects.filter(test=test, utterance_id=utterance_id).update(
            assigned=F("assigned") - n
        )
    Session.objects.filter(pk__in=idle).update(released_at=timezone.now())


# --- Ending a session early: screened out, or out of time --------------------------------------

TIME_UP = "the time for this test is up; the ratings you gave are saved"


def _past_limit(consented_at, limit_minutes: int | None, preview: bool) -> bool:
    """Whether a session is past its test's time limit, counted from the consent. A preview
    (a scientist trying the test) never runs out."""
    if not limit_minutes or consented_at is None or preview:
        return False
    started = sql.parse_timestamp(consented_at)  # text from SQLite's raw cursor
    return timezone.now() > started + timedelta(minutes=limit_minutes)


def session_time_out_if_due(*, session: Session) -> bool:
    """End a live session past its test's time limit (``Outcome.TIMED_OUT``); whether it did.

    Checked whenever a listener's request arrives: a session nobody comes back to is ended by
    the idle release instead, as before."""
    if session.stage == Stage.DONE or not _past_limit(
        session.consented_at, session.test.time_limit_minutes, session.preview
    ):
        return False
    session_end(session=session, outcome=Session.Outcome.TIMED_OUT)
    return True


def session_end(*, session: Session, outcome: str, **fields) -> None:
    """End a live session early (screened out or timed out) and give its unrated items back to
    other listeners at once, rather than after the idle limit.

    Locks in the order every release does (the test's row, then the session's), so it cannot
    deadlock with an allocation or an idle release. Ending an ended session changes nothing."""
    now = timezone.now()
    with transaction.atomic():
        list(ListeningTest.objects.select_for_update().filter(pk=session.test_id).values_list("pk"))
        live = Session.objects.select_for_update().filter(pk=session.pk).exclude(stage=Stage.DONE)
        row = live.values_list("released_at", "preview").first()
        if row is None:
            session.refresh_from_db()
            return
        released_at, preview = row
        Session.objects.filter(pk=session.pk).update(
            stage=Stage.DONE, outcome=outcome, finished_at=now, last_active_at=now, **fields
        )
        if released_at is None and not preview:
            _release(session.test, [session.pk])
    session.refresh_from_db()


# --- The stages before and after the trials --------------------------------------------------


def session_consent(*, session: Session) -> None:
    """Agree to take part: on to the screening (volume and headphone checks) when the test has
    one (``mushra.screening_stage``), else to the instructions."""
    following = Stage.SCREENING if session.test.has_screening else Stage.INSTRUCTIONS
    advance(session, Stage.CONSENT, following, consented_at=timezone.now())


def session_begin_trials(*, session: Session) -> None:
    advance(session, Stage.INSTRUCTIONS, Stage.TRIALS, trials_started_at=timezone.now())


def advance(session: Session, current: str, following: str, **fields) -> None:
    """Move on from `current`; a repeat of a step already taken (a double click) changes nothing."""
    if session.stage == current:
        updated = Session.objects.filter(pk=session.pk, stage=current).update(
            stage=following, last_active_at=timezone.now(), **fields
        )
        if updated:
            session.stage = following
            return
        session.refresh_from_db(fields=["stage"])
    if not stage_passed(session, current):
        raise StageError(
            session, gettext("this step is not open yet; finish the one before it first")
        )


QUESTIONS = {
    # Stored as these English values; the page shows each translated (gettext_noop marks them).
    "age_band": [
        gettext_noop("under 18"),
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        gettext_noop("65 or over"),
        gettext_noop("rather not say"),
    ],
    "headphones": [
        gettext_noop("closed headphones"),
        gettext_noop("open headphones"),
        gettext_noop("earbuds"),
        gettext_noop("loudspeakers"),
        gettext_noop("other"),
    ],
}
# The questions as the listener's error messages name them, in the interface language.
_QUESTION_NAMES = {
    "age_band": gettext_lazy("age band"),
    "headphones": gettext_lazy("headphones"),
    "native_language": gettext_lazy("native language"),
    "comment": gettext_lazy("comment"),
}


def session_questionnaire(*, session: Session, answers: dict) -> None:
    """The end questionnaire; finishing the session. Answers are checked, never free HTML."""
    if session.stage != Stage.QUESTIONNAIRE:
        raise StageError(session, gettext("the questionnaire is not open for this session"))
    clean, problems = {}, []
    for field, choices in QUESTIONS.items():
        value = answers.get(field, "")
        if value not in choices:
            problems.append(
                gettext("%(question)s: choose one of the options")
                % {"question": _QUESTION_NAMES[field]}
            )
        clean[field] = value
    for field, limit in (("native_language", 100), ("comment", 2000)):
        clean[field] = str(answers.get(field, "")).strip()[:limit]
        if "\x00" in clean[field]:
            problems.append(
                gettext("%(question)s: contains a character that is not allowed")
                % {"question": _QUESTION_NAMES[field]}
            )
    if not clean["native_language"]:
        problems.append(gettext("native language: please fill it in"))
    if problems:
        raise InputError(gettext("the questionnaire is incomplete"), problems)
    Session.objects.filter(pk=session.pk, stage=Stage.QUESTIONNAIRE).update(
        questionnaire=clean,
        stage=Stage.DONE,
        finished_at=timezone.now(),
        outcome=Session.Outcome.COMPLETED,
    )


# --- Saving a trial -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rated:
    """The session a ratings POST names, locked, with what saving a trial needs of its test."""

    id: int
    stage: str
    released: bool  # its items were given back while it was idle
    test_id: int
    questionnaire: bool
    consented_at: object  # a datetime (or a string on SQLite's raw cursor); None: not yet
    time_limit_minutes: int | None
    preview: bool
    test_type: str


@dataclass
class _TrialRow:
    id: int
    position: int
    training: bool
    utterance_id: int
    submitted: bool
    submission_key: str
    catch: bool  # an attention check: scored (AttentionCheck), its ratings not kept
    signals: dict  # public id -> condition id; only of the trial being saved
    catch_condition: int | None = None  # in a catch trial: the condition playing the copy
    reference_condition: int | None = None  # the hidden reference's condition


@functools.cache  # built on first use: it names the database's tables and row-lock syntax
def _submit_sql() -> dict[str, str]:
    """The ratings POST's statements (plain SQL, prepared: see ``mushra.sql``)."""
    session, test = sql.table(Session), sql.table(ListeningTest)
    trial, signal = sql.table(Trial), sql.table(TrialSignal)
    condition, check = sql.table(Condition), sql.table(AttentionCheck)
    return {
        # FOR UPDATE OF se: lock the session's row only. Locking over the join would lock the
        # test's row too, and every rating of every listener would queue on it.
        "session": "SELECT se.id, se.stage, se.released_at IS NOT NULL, se.test_id,"
        " te.questionnaire, se.consented_at, te.time_limit_minutes, se.preview, te.test_type"
        f" FROM {session} se JOIN {test} te ON te.id = se.test_id"
        " WHERE se.token = %s" + sql.for_update_of("se"),
        "trials": "SELECT tr.id, tr.position, tr.training, tr.utterance_id,"
        " tr.submitted_at IS NOT NULL, tr.submission_key, tr.catch, sg.public_id,"
        " sg.condition_id, sg.catch, co.role"
        f" FROM {trial} tr LEFT JOIN {signal} sg ON sg.trial_id = tr.id AND tr.position = %s"
        f" LEFT JOIN {condition} co ON co.id = sg.condition_id"
        " WHERE tr.session_id = %s",
        "attention": f"INSERT INTO {check} (session_id, trial_id, catch_score, reference_score,"
        " passed, created_at) VALUES (%s, %s, %s, %s, %s, %s)",
        "trial": f"UPDATE {trial} SET submitted_at = %s, submission_key = %s WHERE id = %s",
        "active": f"UPDATE {session} SET last_active_at = %s WHERE id = %s",
        "ended": f"UPDATE {session} SET last_active_at = %s, stage = %s, finished_at = %s,"
        " outcome = %s WHERE id = %s",
    }


_RATING_COLUMNS = "session_id, trial_id, condition_id, score, plays, listening_ms, created_at"


def trial_submit(*, token: str, position, key, ratings) -> None:
    """Store one trial's ratings once; a repeated send (same key) changes nothing.

    Raises ``Session.DoesNotExist`` for an unknown token. Five statements, in plain SQL (the
    most frequent write of the platform, see ``mushra.sql``): the session (locked, so two tabs
    cannot both store a trial), its trials with this one's signals, the ratings, and two
    updates."""
    _check_key(key)
    if not _is_int(position) or not 0 <= position <= MAX_POSITION:
        raise InputError(gettext("this session has no trial %s") % _shown(position))
    try:
        with transaction.atomic():
            found = sql.fetch(_submit_sql()["session"], [token])
            if not found:
                raise Session.DoesNotExist("no such session")
            session = _Rated(*found[0])
            trials = _trials_of(session, position)
            trial = trials.get(position)
            if trial is None:
                raise InputError(gettext("this session has no trial %s") % position)
            if trial.submitted and trial.submission_key == key:
                return  # the answer to an earlier send was lost; it is saved
            if session.stage == Stage.TRIALS and _past_limit(
                session.consented_at, session.time_limit_minutes, session.preview
            ):
                raise _TimeUp(session.id)
            if session.stage != Stage.TRIALS:
                raise StageError(session, _not_rating_now(session))
            if trial.submitted:
                raise InputError(gettext("trial %s is already saved") % position)
            rows = _checked_ratings(trial, ratings, test_types.of(session.test_type))
            now = timezone.now()
            if trial.catch:  # an attention check: scored, its ratings are not data
                _insert_attention(session, trial, rows, now, test_types.of(session.test_type))
            elif not trial.training:  # practice ratings are discarded by design
                _insert_ratings(session, trial, rows, now)
            _mark_submitted(session, trials, trial, key, now)
    except IntegrityError:
        raise InputError(gettext("ratings of trial %s are already stored") % position) from None
    except _TimeUp as up:  # ended outside the transaction above, which is rolled back
        session = Session.objects.select_related("test").get(pk=up.session_id)
        session_end(session=session, outcome=Session.Outcome.TIMED_OUT)
        raise StageError(session, TIME_UP) from None


class _TimeUp(Exception):
    def __init__(self, session_id: int) -> None:
        self.session_id = session_id


def _trials_of(session: _Rated, position: int) -> dict[int, _TrialRow]:
    trials: dict[int, _TrialRow] = {}
    for *columns, catch, public_id, condition_id, copy, role in sql.fetch(
        _submit_sql()["trials"], [position, session.id]
    ):
        trial = trials.get(columns[1]) or trials.setdefault(
            columns[1], _TrialRow(*columns, bool(catch), {})
        )
        if public_id is not None:
            trial.signals[public_id] = condition_id
            if copy:
                trial.catch_condition = condition_id
            if role == Condition.Role.REFERENCE:
                trial.reference_condition = condition_id
    return trials


def _insert_attention(
    session: _Rated, trial: _TrialRow, rows: list[tuple], now, kind: test_types.TestType
) -> None:
    """A catch trial's verdict, in place of its ratings: MUSHRA's copy rated well below the
    hidden reference (``mushra.attention``, both scores kept), or ACR's trap clip given the
    answer its voice asked for (P.808: exactly ``TRAP_ANSWER``)."""
    scores = {condition: score for condition, score, *_ in rows}
    copy = scores[trial.catch_condition]
    if kind.trap_clips:
        reference, verdict = None, copy == TRAP_ANSWER
    else:
        reference = scores[trial.reference_condition]
        verdict = attention.passed(copy, reference)
    params = [session.id, trial.id, copy, reference, verdict, sql.timestamp(now)]
    sql.execute(_submit_sql()["attention"], params)


def _insert_ratings(session: _Rated, trial: _TrialRow, rows: list[tuple], now) -> None:
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params = [x for row in rows for x in (session.id, trial.id, *row, sql.timestamp(now))]
    sql.execute(f"INSERT INTO {sql.table(Rating)} ({_RATING_COLUMNS}) VALUES {values}", params)


def _mark_submitted(session: _Rated, trials: dict, trial: _TrialRow, key: str, now) -> None:
    at = sql.timestamp(now)
    sql.execute(_submit_sql()["trial"], [at, key, trial.id])
    trial.submitted = True
    if all(t.submitted for t in trials.values()):
        if session.questionnaire:
            stage, finished, outcome = Stage.QUESTIONNAIRE, None, ""
        else:
            stage, finished, outcome = Stage.DONE, at, Session.Outcome.COMPLETED.value
        sql.execute(_submit_sql()["ended"], [at, stage.value, finished, outcome, session.id])
    else:
        sql.execute(_submit_sql()["active"], [at, session.id])
    if session.released and not trial.training and not trial.catch:
        # Its items were given back while it was idle; this one is rated after all.
        ItemLoad.objects.filter(test_id=session.test_id, utterance_id=trial.utterance_id).update(
            assigned=F("assigned") + 1
        )


def _not_rating_now(session: Session) -> str:
    if stage_passed(session, Stage.TRIALS):
        return gettext("this session is finished; nothing more can be saved")
    return gettext(
        "the trials have not started yet: agree to take part and read the instructions first"
    )


def _check_key(key) -> None:
    # Printable ASCII only: the player sends a UUID, and a NUL cannot reach a text column.
    if not (isinstance(key, str) and 8 <= len(key) <= 100 and key.isascii() and key.isprintable()):
        raise InputError(gettext("the submission needs an idempotency key of 8 to 100 characters"))


def _shown(value) -> str:
    """A value as a message may quote it: short, whatever a client sent."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**12 else "(a huge number)"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_ratings(trial: _TrialRow, ratings, kind: test_types.TestType) -> list[tuple]:
    """(condition, score, plays, listening ms) of each rating, on the scale of the test's type,
    or an InputError listing every problem."""
    if not isinstance(ratings, dict):
        raise InputError(gettext("ratings must be an object of signal id → rating"))
    signals = trial.signals
    problems = []
    if missing := len(set(signals) - set(ratings)):
        problems.append(
            gettext("%(missing)s of the %(total)s samples are not rated")
            % {"missing": missing, "total": len(signals)}
        )
    if unknown := len(set(ratings) - set(signals)):
        problems.append(gettext("%s rating(s) name samples that are not in this trial") % unknown)
    rows = []
    for public_id, rating in ratings.items():
        if public_id not in signals:
            continue
        rating = rating if isinstance(rating, dict) else {"score": rating}
        score = rating.get("score")
        if not (_is_number(score) and kind.score_ok(score)):
            problems.append(_off_scale(kind, score))
            continue
        plays, listened = rating.get("plays", 0), rating.get("listening_ms", 0)
        if not (_is_int(plays) and _is_int(listened) and 0 <= plays <= MAX_COUNT and listened >= 0):
            problems.append(
                gettext("plays and listening_ms must be whole numbers from 0 to %s") % MAX_COUNT
            )
            continue
        # A tab left open for weeks saturates listening_ms rather than overflow its column.
        rows.append((signals[public_id], float(score), plays, min(listened, MAX_COUNT)))
    if not problems and not kind.pair_ok([row[1] for row in rows]):
        problems.append(gettext("the two answers about this pair contradict each other"))
    if problems:
        raise InputError(gettext("trial %s was not saved") % trial.position, sorted(set(problems)))
    return rows


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    # A huge int compares as an int in score_ok: converting it to float would overflow.
    return isinstance(value, int) or math.isfinite(value)


def _off_scale(kind: test_types.TestType, score) -> str:
    bounds = {"low": kind.lowest, "high": kind.highest, "got": _shown(score)}
    if kind.pair_values:
        values = ", ".join(f"{v:g}" for v in sorted(kind.pair_values))
        return gettext("an answer must be one of %(values)s, got %(got)s") % {
            "values": values,
            "got": bounds["got"],
        }
    if kind.categories:
        return gettext("a rating must be a whole number from %(low)s to %(high)s, got %(got)s") % (
            bounds
        )
    return gettext("a score must be a number from %(low)s to %(high)s, got %(got)s") % bounds
