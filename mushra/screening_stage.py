"""The screening stage, between the consent and the instructions: volume calibration and the
headphone checks a test switches on (``ListeningTest.headphone_check``, ``volume_calibration``).

* Volume calibration: pink noise at the test's loudness, looped while the listener sets a
  comfortable level, which they then keep (``headphone_checks.calibration_noise``).
* Headphone checks: Woods et al. 2017 (antiphase tones, "which is quietest?") and Milne et al.
  2021 (Huggins pitch, "which contains a tone?"), six 3-AFC trials each, passed at the test's
  ``headphone_pass_at`` correct (5 in the papers); with both, both must be passed.

Each trial is rebuilt from the session's secret seed whenever it is needed (to serve its audio,
to score an answer), so nothing about it is stored but the answers, and nothing the browser gets
(URLs, file sizes, the order of answers) tells which interval is right. Each answer is stored as
it comes (``HeadphoneAnswer``), scored on the server; the listener is never told which were right.
When the last one is in, the session goes on to the instructions, or ends screened out with its
items given back at once (``sessions.session_end``) and the study's screen-out code shown.
"""

import hashlib

from django.db import IntegrityError, transaction
from django.utils.translation import gettext, gettext_noop

from evalsite.errors import InputError
from mushra.models import HeadphoneAnswer, ListeningTest, Session
from mushra.sessions import Stage, StageError, advance, session_end
from synth_workers.audio import headphone_checks
from synth_workers.audio.headphone_checks import CheckTrial

TRIALS = headphone_checks.TRIALS
# The one refusal a listener may meet without tampering (two tabs answering one trial): in their
# language. The others answer requests the page never sends, in English like the API's.
ALREADY_ANSWERED = gettext_noop(
    "this trial of the headphone check is already answered; reload the page to go on"
)
_BUILD = {
    HeadphoneAnswer.Check.ANTIPHASE: headphone_checks.antiphase_trial,
    HeadphoneAnswer.Check.HUGGINS: headphone_checks.huggins_trial,
}
_KINDS = {
    ListeningTest.HeadphoneCheck.NONE: [],
    ListeningTest.HeadphoneCheck.ANTIPHASE: [HeadphoneAnswer.Check.ANTIPHASE],
    ListeningTest.HeadphoneCheck.HUGGINS: [HeadphoneAnswer.Check.HUGGINS],
    ListeningTest.HeadphoneCheck.BOTH: [
        HeadphoneAnswer.Check.ANTIPHASE,
        HeadphoneAnswer.Check.HUGGINS,
    ],
}


def check_kinds(test: ListeningTest) -> list[str]:
    """The checks a listener of this test takes, in the order taken."""
    return [str(kind) for kind in _KINDS[test.headphone_check]]


def check_trial(session: Session, kind: str, position: int) -> CheckTrial:
    """Trial `position` of check `kind` as this session hears it, rebuilt from its secret seed
    (a listener cannot derive it: the seed never leaves the server)."""
    digest = hashlib.sha256(f"{session.seed}:{kind}:{position}".encode()).digest()
    return _BUILD[kind](int.from_bytes(digest[:8], "big") >> 1)


def calibration_done(*, session: Session) -> None:
    """The listener set their volume. With no headphone check that ends the screening; with one,
    the checks follow on the same page and their last answer ends it."""
    if session.stage == Stage.SCREENING and check_kinds(session.test):
        return
    advance(session, Stage.SCREENING, Stage.INSTRUCTIONS)


def headphone_answer(*, session: Session, kind, position, answer) -> None:
    """Store and score one answer; the last one decides the screening.

    Sending the same answer again changes nothing (a lost response, a double click); a different
    answer to a trial already answered is refused, so a listener cannot try the intervals one
    after another."""
    if session.stage != Stage.SCREENING:
        if session.stage == Stage.CONSENT:
            raise StageError(session, "the headphone check comes after the consent")
        raise StageError(session, "the headphone check is over for this session")
    kinds = check_kinds(session.test)
    if kind not in kinds:
        raise InputError("this test has no such headphone check")
    if not _small_int(position, TRIALS - 1):
        raise InputError(f"the headphone check has trials 0 to {TRIALS - 1}")
    if not _small_int(answer, 2):
        raise InputError("an answer is the sound chosen: 0, 1 or 2")
    correct = check_trial(session, kind, position).answer == answer
    try:
        with transaction.atomic():
            HeadphoneAnswer.objects.create(
                session=session, kind=kind, position=position, answer=answer, correct=correct
            )
    except IntegrityError:
        given = HeadphoneAnswer.objects.filter(session=session, kind=kind, position=position)
        if not given.filter(answer=answer).exists():
            raise InputError(gettext(ALREADY_ANSWERED)) from None
    _decide(session, kinds)


def _decide(session: Session, kinds: list[str]) -> None:
    answers = HeadphoneAnswer.objects.filter(session=session).values_list("kind", "correct")
    correct = dict.fromkeys(kinds, 0)
    count = 0
    for kind, right in answers:
        count += 1
        correct[kind] += right
    if count < TRIALS * len(kinds):
        return
    if all(n >= session.test.headphone_pass_at for n in correct.values()):
        advance(session, Stage.SCREENING, Stage.INSTRUCTIONS, screening_passed=True)
    else:
        session_end(session=session, outcome=Session.Outcome.SCREENED_OUT, screening_passed=False)


def _small_int(value, most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most
