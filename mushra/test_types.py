"""What each listening-test type asks of a trial: its signals, its scale, its defaults.

Every type shares one trial shape (an utterance, its conditions as opaque signals, one rating per
signal), the player engine, the blinding, the saving queue and the stage machine; a type only
changes what surrounds it. Keeping these rules in one table lets the service that builds a test,
the ratings POST that checks a trial and the player page read the same facts.

* MUSHRA (ITU-R BS.1534-3): an open reference beside every trial, a hidden reference among the
  signals, 0-100 sliders.
* MUSHRA without reference: no open and no hidden reference, for systems that may sound better
  than the recordings (webMUSHRA #117); anchors may stay, and the recordings may be rated as a
  system among the others. Nothing need deserve 100, so "one 100 per trial" is off by default.
* SMOS (speaker similarity): ACR's five categories, worded for similarity, with the target
  speaker's recording of the same sentence as an open reference; the recording is also rated
  among the signals, a built-in check (it should be judged the same voice).
* ACR (ITU-T P.800 absolute category rating, the MOS of P.808): every signal rated on its own on
  five categories, 5 Excellent ... 1 Bad, with no reference to compare against; the recordings
  take part as one more condition (labelled so), as P.808's reference conditions do.

Pair types show two conditions per trial, A and B, every pair of the test's conditions once per
rated utterance, the order within a pair balanced across sessions (``design.pair_trials``). Each
trial stores a rating per signal, so "every signal of a saved trial is rated" holds for every
type; the two ratings of a pair say one thing and must agree (``pair_ok``):

* CMOS (P.800's comparison category rating): −3 … +3, how B compares with A; A's rating is the
  negative of B's.
* A/B preference: the preferred signal 1 and the other 0, or 0.5 each for "no preference".
* ABX: X (the open reference's place) plays A's or B's stimulus; the signal chosen as X gets 1,
  the other 0. Which one X was follows from the trial's stored X stimulus.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_noop

# Marked for translation: a listener of a test that keeps its default reads it in their language.
QUESTION_MUSHRA = gettext_noop("How natural does each sample sound, compared with the reference?")
QUESTION_NOREF = gettext_noop("How natural does each sample sound?")
QUESTION_ACR = gettext_noop("How natural does each sample sound? Rate each one on its own.")
QUESTION_SMOS = gettext_noop("How similar is the voice of each sample to the reference's voice?")
QUESTION_CMOS = gettext_noop("How natural does B sound compared with A?")
QUESTION_AB = gettext_noop("Which sample sounds more natural?")
QUESTION_ABX = gettext_noop("Is X the same as A or as B?")


@dataclass(frozen=True)
class TestType:
    name: str  # ListeningTest.TestType's value
    open_reference: bool  # a reference beside each trial, heard at will
    hidden_reference: bool  # the recordings among the signals, as BS.1534-3's hidden reference
    recordings_condition: bool  # the recordings among the signals as one condition (ACR)
    lowest: int  # the scale's ends, both included
    highest: int
    categories: bool  # whole numbers only, one button each (ACR), instead of a slider
    default_anchors: tuple[str, ...]
    default_question: str
    attention_checks: bool  # catch trials (mushra.attention) are defined for it
    pair: bool = False  # two signals per trial, A and B, one judgement (stored as two ratings)
    x: bool = False  # ABX: the open reference's place plays X, a copy of A or B
    # The values a pair's ratings may take and what they add up to (CMOS: B = −A).
    pair_values: frozenset = frozenset()
    pair_total: float = 0.0
    similarity: bool = False  # the categories are worded for speaker similarity (SMOS)
    trap_clips: bool = False  # its attention checks are P.808 trap clips (mushra.trap_speech)

    @property
    def one_100(self) -> bool:
        """Whether "at least one 100 per trial" means anything: a hidden reference on 0-100."""
        return self.hidden_reference and not self.categories

    def score_ok(self, value: int | float) -> bool:
        """Whether `value` (a finite number) is a rating on this type's scale."""
        if self.pair_values:
            return value in self.pair_values
        if self.categories and value != int(value):
            return False
        return self.lowest <= value <= self.highest

    def pair_ok(self, scores: list[float]) -> bool:
        """Whether a pair trial's two ratings say one thing (each already ``score_ok``)."""
        return not self.pair or (len(scores) == 2 and sum(scores) == self.pair_total)


MUSHRA = TestType("mushra", True, True, False, 0, 100, False, ("low", "mid"), QUESTION_MUSHRA, True)
MUSHRA_NOREF = TestType(
    "mushra_noref", False, False, False, 0, 100, False, ("low", "mid"), QUESTION_NOREF, False
)
ACR = TestType("acr", False, False, True, 1, 5, True, (), QUESTION_ACR, True, trap_clips=True)
SMOS = TestType("smos", True, False, True, 1, 5, True, (), QUESTION_SMOS, False, similarity=True)
CMOS = TestType(
    "cmos", False, False, False, -3, 3, True, (), QUESTION_CMOS, False,
    pair=True, pair_values=frozenset(range(-3, 4)), pair_total=0.0,
)  # fmt: skip
AB = TestType(
    "ab", False, False, False, 0, 1, True, (), QUESTION_AB, False,
    pair=True, pair_values=frozenset({0, 0.5, 1}), pair_total=1.0,
)  # fmt: skip
ABX = TestType(
    "abx", False, False, False, 0, 1, True, (), QUESTION_ABX, False,
    pair=True, x=True, pair_values=frozenset({0, 1}), pair_total=1.0,
)  # fmt: skip

TYPES = {t.name: t for t in (MUSHRA, MUSHRA_NOREF, ACR, SMOS, CMOS, AB, ABX)}
# Types whose open reference plays the recordings' condition of the same trial.
RECORDING_REFERENCE = tuple(t.name for t in TYPES.values() if t.open_reference)
DEFAULT_QUESTIONS = {t.default_question for t in TYPES.values()}


def of(test) -> TestType:
    """The rules of `test` (a ListeningTest, or its type's value)."""
    return TYPES[test if isinstance(test, str) else test.test_type]
