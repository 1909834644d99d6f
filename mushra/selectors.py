"""Reads of the mushra app that build what the listener's browser receives.

Everything here is checked by the blinding tests: only opaque ids, audio URLs under them, and on
the practice trial generic role names ("Hidden reference", "System under test"), never a system's
name, a label a scientist typed, or a stored file name.
"""

from dataclasses import dataclass

from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext

from mushra import sql, test_types
from mushra.models import Condition, ListeningTest, Session, Trial, TrialSignal
from synth_workers.models import Stimulus, System

TRAINING_LABELS = {role: label for role, label in Condition.Role.choices}


def trials_payload(session: Session) -> dict:
    """What the player needs of a session's trials, in one query (it is fetched once per
    session, and by every listener of a launch): positions, opaque ids, audio URLs."""
    rows = (
        TrialSignal.objects.filter(trial__session=session)
        .order_by("trial__position", "order")
        .values_list(
            "trial__position",
            "trial__training",
            "trial__submitted_at",
            "trial__reference_public_id",
            "public_id",
            "condition__role",
        )
    )
    urls = _AudioUrls(session.token)
    trials: dict[int, dict] = {}
    kind = test_types.of(session.test)
    for position, training, submitted_at, reference_id, public_id, role in rows:
        if position not in trials:
            trials[position] = {
                "position": position,
                "training": training,
                "submitted": submitted_at is not None,
                "conditions": [],
                # The reference and the conditions in this order, in one response: what the
                # player fetches (the per-signal URLs serve other clients, and ranges).
                "audio": urls.trial(position),
            }
            if kind.open_reference:
                trials[position]["reference"] = {"audio": urls.signal(reference_id)}
        item = {"id": public_id, "audio": urls.signal(public_id)}
        if training:
            item["label"] = str(TRAINING_LABELS[role])  # in the active (test's) language
        trials[position]["conditions"].append(item)
    real = sum(not t["training"] for t in trials.values())
    number = 0
    for trial in trials.values():
        number += not trial["training"]
        trial["title"] = (
            gettext("Practice")
            if trial["training"]
            else gettext("Trial %(number)s of %(total)s") % {"number": number, "total": real}
        )
    test = session.test
    rules = {
        "play_all": test.require_play_all,
        "one_100": test.require_one_100,
        # What the player draws: the open reference or none, a slider or five categories.
        "reference": kind.open_reference or kind.x,
        "scale": {
            "min": kind.lowest,
            "max": kind.highest,
            "categories": kind.categories,
            "similarity": kind.similarity,  # SMOS words its categories for similarity
        },
        "type": kind.name,  # what a pair trial asks (CMOS, A/B or ABX)
        "pair": kind.pair,
    }
    return {"rules": rules, "trials": list(trials.values())}


class _AudioUrls:
    """A session's audio URLs, reversed once each rather than once per signal."""

    def __init__(self, token: str) -> None:
        self._signal = reverse("mushra:audio", args=[token, "ID"]).removesuffix("ID")
        self._trial = reverse("mushra:trial-audio", args=[token, 0]).rsplit("/0/", 1)

    def signal(self, public_id: str) -> str:
        return self._signal + public_id

    def trial(self, position: int) -> str:
        return f"{self._trial[0]}/{position}/{self._trial[1]}"


def listening_test_progress(test: ListeningTest) -> dict:
    """Sessions started/finished and ratings per condition and per item (previews left out)."""
    sessions = test.sessions.filter(preview=False)
    # Every saved real trial rates every condition of the test once (the ratings POST refuses
    # anything less), so the saved trials per item give every count: one GROUP BY over the
    # test's trials, not over its ratings (about four times as many rows, polled every few
    # seconds while a crowd is rating).
    per_item = dict(
        Trial.objects.filter(
            session__test=test,
            session__preview=False,
            training=False,
            catch=False,
            submitted_at__isnull=False,
        )
        .values_list("utterance_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rated = sum(per_item.values())
    conditions = list(test.conditions.all())
    # A pair trial rates two conditions, and a session rates every pair of an utterance: each
    # condition is in k - 1 of the k(k - 1)/2 pairs, so it gets 2/k of the trials' ratings.
    pair = test_types.of(test).pair
    per_trial = 2 if pair else len(conditions)
    pairs = len(conditions) * (len(conditions) - 1) // 2 if pair else 1
    return {
        "status": test.status,
        "sessions_started": sessions.count(),
        # Completed: a session screened out or timed out is done but did not finish.
        "sessions_finished": sessions.filter(outcome=Session.Outcome.COMPLETED).count(),
        "ratings": rated * per_trial,
        "ratings_wanted": test.ratings_wanted,
        "conditions": [
            {"label": c.label, "role": c.role, "ratings": rated * per_trial // len(conditions)}
            for c in conditions
        ],
        "items": [
            {"key": u.key, "listeners": per_item.get(u.pk, 0) // pairs}
            for u in test.chosen_utterances()
        ],
    }


def systems_of(test: ListeningTest) -> list[System]:
    """The systems of a test's conditions: those under test, and the recordings its hidden
    reference and anchors come from."""
    return list(System.objects.filter(pk__in=test.conditions.values("system_id")))


@dataclass(frozen=True)
class Returning:
    """Who opened the entry link: a session to resume, a participant id already in use, or new."""

    session: Session | None = None
    taken: bool = False


def returning_session(
    test: ListeningTest, *, participant_id: str, resume_value: str, cookie_token: str
) -> Returning:
    """The session an entry request may resume; a participant id alone never opens one.

    Participant ids are public (they travel in study links and completion URLs), so a session
    that has one is resumed only with its cookie or with its resume parameter (Prolific's
    SESSION_ID, MTurk's assignmentId), which only that participant's study page holds. Without a
    participant id the cookie resumes, as before."""
    cookie_session = None
    if cookie_token:
        cookie_session = test.sessions.filter(token=cookie_token, preview=False).first()
    if not participant_id:
        return Returning(session=cookie_session)
    own = test.sessions.filter(participant_id=participant_id, preview=False).first()
    if own is None:
        return Returning()  # a new participant (whoever used this browser before)
    if cookie_session is not None and cookie_session.pk == own.pk:
        return Returning(session=own)
    if own.resume_key and resume_value and own.resume_key == Session.resume_key_for(resume_value):
        return Returning(session=own)
    return Returning(taken=True)


@dataclass(frozen=True)
class AudioSignal:
    """What serving one signal's audio needs, read in one query."""

    stage: str
    test_key: tuple | None  # (test, opened at) once its stimuli are frozen, else None
    trial_id: int
    utterance_id: int
    stimulus_key: tuple  # (stimulus, its sha256): what a stored file's size may be kept under
    audio_name: str
    attention: bool = False  # the test has attention checks (delivery pads for the copy)
    catch: bool = False  # it plays a degraded copy of its stimulus (``mushra.attention``)
    trap_language: str = ""  # ACR: the copy is a trap clip spoken in this language (P.808)


_AUDIO_TABLES = [
    sql.table(m) for m in (TrialSignal, Trial, Session, ListeningTest, Stimulus, Condition)
]


def _audio_sql(match: str) -> str:
    """The audio lookup as plain SQL (see ``mushra.sql``): one join chain from the signal to its
    session (by token), test and stored file; `match` picks the signal."""
    signal, trial, session, test, stimulus, condition = _AUDIO_TABLES
    return (
        "SELECT se.stage, se.test_id, te.opened_at, sg.trial_id, tr.utterance_id,"
        " sg.stimulus_id, st.sha256, st.audio, te.attention_checks > 0, sg.catch,"
        " te.test_type, te.language"
        f" FROM {signal} sg JOIN {trial} tr ON tr.id = sg.trial_id"
        f" JOIN {session} se ON se.id = tr.session_id"
        f" JOIN {test} te ON te.id = se.test_id"
        f" JOIN {stimulus} st ON st.id = sg.stimulus_id"
        + (f" JOIN {condition} co ON co.id = sg.condition_id" if "co." in match else "")
        + f" WHERE se.token = %s AND {match}"
    )


_SIGNAL_SQL = _audio_sql("sg.public_id = %s")
# The open reference plays the trial's hidden reference. (One UNION ALL of both was slower:
# PostgreSQL keeps planning it afresh.)
_REFERENCE_SQL = _audio_sql(
    "tr.reference_public_id = %s AND (sg.stimulus_id = tr.reference_stimulus_id"
    " OR (co.role = 'reference' AND te.test_type IN ("
    + ", ".join(f"'{name}'" for name in test_types.RECORDING_REFERENCE)
    + ")))"
)


def _fetch_one(query: str, params: list) -> tuple | None:
    rows = sql.fetch(query, params)
    return rows[0] if rows else None


def signal_for_audio(token: str, public_id: str) -> AudioSignal | None:
    """The signal `public_id` of session `token`, or the open reference of one of its trials;
    None when the session has no such id."""
    row = _fetch_one(_SIGNAL_SQL, [token, public_id])
    if row is None:
        row = _fetch_one(_REFERENCE_SQL, [token, public_id])
    if row is None:
        return None
    stage, test_id, opened_at, trial_id, utterance_id, stimulus_id, sha256, name = row[:8]
    test_key = (test_id, opened_at) if opened_at else None
    stimulus_key = (stimulus_id, sha256)
    attention, catch = bool(row[8]), bool(row[9])
    trap = _trap_language(row[10], row[11])
    return AudioSignal(
        stage, test_key, trial_id, utterance_id, stimulus_key, name, attention, catch, trap
    )


def _trap_language(test_type: str, language: str) -> str:
    """An ACR test's catch signal plays a P.808 trap clip in its language; MUSHRA's a copy."""
    return language if test_types.of(test_type).trap_clips else ""


@dataclass(frozen=True)
class TrialAudio:
    """What serving a whole trial's audio needs, read in one query: the open reference first,
    then the signals in their order on screen, each as (stimulus key, stored file, whether it
    plays a degraded copy of that file: the catch signal of an attention check)."""

    stage: str
    test_key: tuple | None
    trial_id: int
    utterance_id: int
    files: list[tuple[tuple, str, bool]]
    attention: bool = False  # the test has attention checks (delivery pads for the copy)
    trap_language: str = ""  # ACR: the copy is a trap clip spoken in this language (P.808)


def _trial_audio_sql() -> str:
    signal, trial, session, test, stimulus, condition = _AUDIO_TABLES
    return (
        "SELECT se.stage, se.test_id, te.opened_at, tr.id, tr.utterance_id, co.role,"
        " te.attention_checks > 0, te.test_type, tr.reference_stimulus_id, te.language,"
        " sg.catch, sg.stimulus_id, st.sha256, st.audio"
        f" FROM {session} se JOIN {test} te ON te.id = se.test_id"
        f" JOIN {trial} tr ON tr.session_id = se.id"
        f" JOIN {signal} sg ON sg.trial_id = tr.id"
        f" JOIN {stimulus} st ON st.id = sg.stimulus_id"
        f" JOIN {condition} co ON co.id = sg.condition_id"
        ' WHERE se.token = %s AND tr.position = %s ORDER BY sg."order"'
    )


_TRIAL_AUDIO_SQL = _trial_audio_sql()


def trial_audio(token: str, position: int) -> TrialAudio | None:
    """Trial `position` of session `token` with its stored files; None when there is none."""
    rows = sql.fetch(_TRIAL_AUDIO_SQL, [token, position])
    if not rows:
        return None
    stage, test_id, opened_at, trial_id, utterance_id = rows[0][:5]
    files = [((pk, sha256), name, bool(catch)) for *_, catch, pk, sha256, name in rows]
    kind, x_stimulus = test_types.of(rows[0][7]), rows[0][8]
    if kind.open_reference:  # it plays the hidden reference's stimulus
        roles = [row[5] for row in rows]
        files = [files[roles.index("reference")], *files]
    elif kind.x:  # ABX: X plays A's or B's stimulus, first like any open reference
        files = [next(f for f in files if f[0][0] == x_stimulus), *files]
    test_key = (test_id, opened_at) if opened_at else None
    attention, trap = bool(rows[0][6]), _trap_language(rows[0][7], rows[0][9])
    return TrialAudio(stage, test_key, trial_id, utterance_id, files, attention, trap)
