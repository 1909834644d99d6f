"""MUSHRA listening tests (ITU-R BS.1534-3): the test, its conditions, sessions, trials, ratings.

A test compares *conditions*: the systems under test (a system, possibly narrowed to one synthesis
condition such as a style), the hidden reference and the anchors. When a test opens, the stimulus
of every (condition, utterance) is frozen in ``ConditionStimulus``, so what listeners hear never
changes under them. Each session gets its own trials and, per trial, its own opaque ids for the
signals (``TrialSignal.public_id``): nothing a browser receives names a system or a stored file.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy, gettext_noop

from evalsite.models import default_project_id
from mushra import test_types
from synth_workers.models import Corpus, Stimulus, System, Utterance

MAX_SIGNALS = 12  # BS.1534-3: at most 12 signals per trial, hidden reference and anchors included
LANGUAGES = settings.LANGUAGES  # the listener interface's (locale/ holds their catalogues)
HEADPHONE_TRIALS = 6  # per check (synth_workers.audio.headphone_checks.TRIALS)
MAX_ATTENTION_CHECKS = 5
MAX_TIME_LIMIT_MINUTES = 7 * 24 * 60  # a week; the column would take 2^31
# What crowdsourcing sites put in a study's link (Prolific; MTurk's external question), stored
# with the session (``Session.crowd``) for the scientist to match approvals and payments.
CROWD_PARAMS = ("PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId")
# Marked for translation: a listener of a test that keeps a default reads it in their language
# (mushra.i18n); the stored default stays English.
DEFAULT_QUESTION = test_types.QUESTION_MUSHRA
DEFAULT_CONSENT = gettext_noop(
    "You are invited to a listening test for speech research. You will hear short sentences "
    "and rate how natural they sound. It takes about 15 minutes; please use headphones in a "
    "quiet place. Your ratings are stored anonymously with the answers to a short "
    "questionnaire, and you may stop at any time."
)


class ListeningTest(models.Model):
    # What listeners do on each trial (``mushra.test_types`` holds each type's rules): rate every
    # condition on BS.1534-3's 0-100 scale against the open reference, the same without a
    # reference (systems may exceed the recordings), or on P.800's five categories.
    class TestType(models.TextChoices):
        MUSHRA = "mushra", "MUSHRA (ITU-R BS.1534-3)"
        MUSHRA_NOREF = "mushra_noref", "MUSHRA without reference"
        ACR = "acr", "ACR / MOS (ITU-T P.800, P.808)"
        SMOS = "smos", "SMOS: speaker similarity to a reference, 1-5"
        CMOS = "cmos", "CMOS: B compared with A, −3 … +3 (P.800 CCR)"
        AB = "ab", "A/B preference (with no preference)"
        ABX = "abx", "ABX: is X like A or like B?"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    test_type = models.CharField(max_length=20, choices=TestType.choices, default=TestType.MUSHRA)
    question = models.CharField(max_length=300, default=DEFAULT_QUESTION)
    instructions = models.TextField(blank=True, help_text="Markdown; sanitised when shown")
    language = models.CharField(
        max_length=10, default="en", choices=LANGUAGES, help_text="Listener interface"
    )
    corpus = models.ForeignKey(Corpus, on_delete=models.PROTECT, related_name="tests")
    project = models.ForeignKey(  # its corpus' project (services.listening_test_create)
        "evalsite.Project",
        on_delete=models.PROTECT,
        related_name="tests",
        default=default_project_id,
    )
    utterances = models.ManyToManyField(
        Utterance, blank=True, related_name="+", help_text="Empty: every utterance of the corpus"
    )
    trials_per_session = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: every utterance in every session"
    )
    ratings_wanted = models.PositiveIntegerField(
        default=20, help_text="Ratings wanted per stimulus (shown on the progress page)"
    )
    require_play_all = models.BooleanField(
        default=True, help_text="A slider is enabled once its sample has been played"
    )
    require_one_100 = models.BooleanField(
        default=True, help_text="At least one rating of 100 per trial"
    )
    training = models.BooleanField(
        default=True, help_text="A practice trial first: conditions named, ratings not kept"
    )
    consent_text = models.TextField(default=DEFAULT_CONSENT)
    questionnaire = models.BooleanField(
        default=True, help_text="Age band, headphones, native language, comment"
    )

    # --- Screening before practice (mushra.screening_stage) ---
    class HeadphoneCheck(models.TextChoices):
        NONE = "", "No headphone check"
        ANTIPHASE = "antiphase", "Antiphase tones (Woods et al. 2017)"
        HUGGINS = "huggins", "Huggins pitch (Milne et al. 2021)"
        BOTH = "both", "Both, one after the other"

    headphone_check = models.CharField(
        max_length=10, choices=HeadphoneCheck.choices, default="", blank=True
    )
    headphone_pass_at = models.PositiveSmallIntegerField(
        default=5, help_text=f"Correct answers of {HEADPHONE_TRIALS} needed to pass each check"
    )
    volume_calibration = models.BooleanField(
        default=False, help_text="A noise at the test's loudness to set a comfortable level"
    )
    attention_checks = models.PositiveSmallIntegerField(
        default=0,
        help_text="Catch trials per session: a clearly degraded copy to be rated below the "
        "reference",
    )
    time_limit_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no limit. Counted from the consent"
    )
    completion_code = models.CharField(max_length=40, blank=True)
    redirect_url = models.URLField(
        blank=True, help_text="Sent here when done, e.g. Prolific's completion URL; {code} allowed"
    )
    screen_out_code = models.CharField(max_length=40, blank=True)
    screen_out_url = models.URLField(
        blank=True, help_text="Sent here when screened out, e.g. Prolific's; {code} allowed"
    )
    time_out_code = models.CharField(max_length=40, blank=True)
    time_out_url = models.URLField(
        blank=True, help_text="Sent here when the time limit is up; {code} allowed"
    )
    participant_params = models.CharField(
        max_length=200,
        default="PROLIFIC_PID,workerId,participant",
        help_text="Entry-URL parameters holding the participant id, first found wins",
    )
    # A participant id is public (it travels in links and completion URLs), so it never reopens
    # a session by itself: resuming from another browser also needs the value of one of these,
    # which only that participant's study page holds (Prolific's SESSION_ID, MTurk's assignment).
    resume_params = models.CharField(
        max_length=200,
        default="SESSION_ID,assignmentId",
        help_text="Entry-URL parameters that let a participant resume in another browser",
    )
    abandon_after_minutes = models.PositiveIntegerField(
        default=60,
        help_text="An unfinished session idle this long gives its items back to other listeners",
    )
    # Session numbers come from this counter, bumped in a short transaction of its own, so
    # starting a session never locks the test while its trials are written.
    sessions_allocated = models.PositiveIntegerField(default=0, editable=False)
    policy_key = models.CharField(max_length=64, blank=True)  # set when opened
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="test_status_valid", condition=Q(status__in=["draft", "open", "closed"])
            ),
            models.CheckConstraint(
                name="test_type_valid", condition=Q(test_type__in=list(test_types.TYPES))
            ),
            models.CheckConstraint(
                name="test_headphone_check_valid",
                condition=Q(headphone_check__in=["", "antiphase", "huggins", "both"]),
            ),
            models.CheckConstraint(
                name="test_headphone_pass_at_valid",
                condition=Q(headphone_pass_at__gte=1, headphone_pass_at__lte=HEADPHONE_TRIALS),
            ),
            models.CheckConstraint(
                name="test_attention_checks_valid",
                condition=Q(attention_checks__lte=MAX_ATTENTION_CHECKS),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Never write back the session counter from a copy read earlier: sessions started since
        # would see their numbers handed out again. Only ``sessions._allocate`` moves it.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "sessions_allocated"
            ]
        super().save(*args, **kwargs)

    @property
    def has_screening(self) -> bool:
        """Whether listeners pass a screening stage (volume and/or headphone check) after the
        consent (``mushra.screening_stage``)."""
        return bool(self.headphone_check) or self.volume_calibration

    def chosen_utterances(self) -> list[Utterance]:
        """The utterances this test rates: those chosen, or else every one of its corpus."""
        chosen = list(self.utterances.order_by("key"))
        return chosen or list(self.corpus.utterances.order_by("key"))


class Condition(models.Model):
    """One signal of every trial: a system under test, the hidden reference or an anchor."""

    class Role(models.TextChoices):
        # Translated: a practice trial names its signals by role, in the listener's language.
        REFERENCE = "reference", gettext_lazy("Hidden reference")
        ANCHOR_LOW = "anchor_low", gettext_lazy("Low anchor (3.5 kHz)")
        ANCHOR_MID = "anchor_mid", gettext_lazy("Mid anchor (7 kHz)")
        SYSTEM = "system", gettext_lazy("System under test")

    test = models.ForeignKey(ListeningTest, on_delete=models.CASCADE, related_name="conditions")
    role = models.CharField(max_length=20, choices=Role.choices)
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="+")
    # Narrows the system's stimuli, e.g. {"style": "dj"} or {"anchor": audio.LOW_ANCHOR} (of
    # synth_workers.audio); {} = plain.
    stimulus_condition = models.JSONField(default=dict, blank=True)
    label = models.CharField(max_length=200, help_text="For scientists only; never shown")
    # ACR/SMOS gold clips (ITU-T P.808): the known score; its ratings screen listeners (within 1
    # of it) and stay out of the MOS. None: an ordinary condition.
    gold_score = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["test", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["test", "label"], name="condition_label_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class ConditionStimulus(models.Model):
    """The stimulus a condition plays for an utterance, frozen when the test opens."""

    test = models.ForeignKey(ListeningTest, on_delete=models.CASCADE, related_name="stimuli")
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="+")
    utterance = models.ForeignKey(Utterance, on_delete=models.PROTECT, related_name="+")
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["condition", "utterance"], name="condition_stimulus_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition} · {self.utterance}"


class ItemLoad(models.Model):
    """How many real trials of an utterance are assigned: submitted, or in a live session.

    Kept incrementally (assignment adds, abandonment gives back), so picking the least-rated items
    reads one row per item however many sessions the test holds (DESIGN.md §11).
    """

    test = models.ForeignKey(ListeningTest, on_delete=models.CASCADE, related_name="item_loads")
    utterance = models.ForeignKey(Utterance, on_delete=models.PROTECT, related_name="+")
    assigned = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["test", "utterance"], name="item_load_unique"),
            models.CheckConstraint(name="item_load_not_negative", condition=Q(assigned__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.test} · {self.utterance}: {self.assigned}"


class Session(models.Model):
    """One listener's pass through a test; its token is the only key their browser holds."""

    class Stage(models.TextChoices):
        CONSENT = "consent", "Consent"
        SCREENING = "screening", "Screening"  # volume calibration and headphone checks
        INSTRUCTIONS = "instructions", "Instructions"
        TRIALS = "trials", "Trials"
        QUESTIONNAIRE = "questionnaire", "Questionnaire"
        DONE = "done", "Done"

    test = models.ForeignKey(ListeningTest, on_delete=models.PROTECT, related_name="sessions")
    token = models.CharField(max_length=64, unique=True)
    number = models.PositiveIntegerField(help_text="Order of arrival; picks the trial order")
    seed = models.BigIntegerField(help_text="Everything random about this session follows it")

    class Outcome(models.TextChoices):
        LIVE = "", "Not finished"
        COMPLETED = "completed", "Completed"
        SCREENED_OUT = "screened_out", "Screened out"
        TIMED_OUT = "timed_out", "Timed out"

    participant_id = models.CharField(max_length=200, blank=True)
    participant_source = models.CharField(max_length=50, blank=True)
    # The crowdsourcing site's ids as they came in the entry URL (PROLIFIC_PID, STUDY_ID,
    # SESSION_ID, workerId, assignmentId, hitId): for the scientist to match payments.
    crowd = models.JSONField(default=dict, blank=True)
    # sha256 of the resume parameter's value (e.g. Prolific's SESSION_ID); empty when none came.
    resume_key = models.CharField(max_length=64, blank=True)
    # A scientist's "preview as listener": never counted in the design's load or the results.
    preview = models.BooleanField(default=False)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.CONSENT)
    questionnaire = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How it ended (stage "done"): finished, screened out, or past the test's time limit.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default="", blank=True)
    screening_passed = models.BooleanField(null=True, blank=True)  # None: no headphone check
    trials_started_at = models.DateTimeField(null=True, blank=True)
    last_active_at = models.DateTimeField(null=True, blank=True)
    # Set when the session was idle past the test's limit and its unrated items were given back.
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["test", "number"]
        constraints = [
            models.UniqueConstraint(fields=["test", "number"], name="session_number_unique"),
            models.CheckConstraint(name="session_seed_positive", condition=Q(seed__gte=0)),
            models.CheckConstraint(
                name="session_outcome_valid",
                condition=Q(outcome__in=["", "completed", "screened_out", "timed_out"]),
            ),
            # Two browsers racing in with one participant id get one session, not two.
            models.UniqueConstraint(
                fields=["test", "participant_id"],
                condition=~Q(participant_id="") & Q(preview=False),
                name="session_participant_once",
            ),
        ]
        indexes = [
            # Finding idle sessions to release reads only the live ones (a partial index).
            models.Index(
                fields=["test", "last_active_at"],
                condition=Q(finished_at__isnull=True, released_at__isnull=True, preview=False),
                name="session_live_idle",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.test} #{self.number}"

    @staticmethod
    def resume_key_for(value: str) -> str:
        """What is stored of a resume parameter (e.g. Prolific's SESSION_ID): its sha256."""
        return hashlib.sha256(value.encode()).hexdigest() if value else ""


class Trial(models.Model):
    """One screen of a session: an utterance with all its signals; position 0 may be training."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="trials")
    position = models.PositiveSmallIntegerField()
    utterance = models.ForeignKey(Utterance, on_delete=models.PROTECT, related_name="+")
    training = models.BooleanField(default=False)
    # An attention check: not part of the design, its ratings scored (AttentionCheck), not kept.
    catch = models.BooleanField(default=False)
    reference_public_id = models.CharField(max_length=32, unique=True)  # the open reference
    # What the open reference plays when it is not the hidden reference: ABX's X (A's or B's
    # stimulus). None: the hidden reference's stimulus (MUSHRA), or no open reference.
    reference_stimulus = models.ForeignKey(
        Stimulus, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_key = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="trial_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.session} trial {self.position}"


class TrialSignal(models.Model):
    """A condition as one session sees it in one trial: an opaque id and a place on screen."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="signals")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    stimulus = models.ForeignKey(Stimulus, on_delete=models.PROTECT, related_name="+")
    public_id = models.CharField(max_length=32, unique=True)
    order = models.PositiveSmallIntegerField()
    # In a catch trial: this signal plays a clearly degraded copy of its stimulus instead.
    catch = models.BooleanField(default=False)

    class Meta:
        ordering = ["trial", "order"]
        constraints = [
            models.UniqueConstraint(fields=["trial", "condition"], name="signal_once_per_trial"),
            models.UniqueConstraint(fields=["trial", "order"], name="signal_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.trial} · {self.condition}"


class Rating(models.Model):
    """A score given to one condition in one trial; stored once (the constraint says so)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="ratings")
    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="ratings")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="ratings")
    score = models.FloatField()
    plays = models.PositiveIntegerField(default=0)
    listening_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "trial", "condition"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "trial", "condition"], name="rating_once_per_condition"
            ),
            # 0-100 (MUSHRA), 1-5 (ACR), 0-1 (A/B, ABX) or CMOS's -3 ... +3; each type's own
            # scale is checked when a trial is saved (mushra.test_types).
            models.CheckConstraint(
                name="rating_score_in_range", condition=Q(score__gte=-3) & Q(score__lte=100)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial} · {self.condition}: {self.score:g}"


class HeadphoneAnswer(models.Model):
    """One answer of a listener's headphone check (3-AFC), scored when given."""

    class Check(models.TextChoices):
        ANTIPHASE = "antiphase", "Antiphase tones"
        HUGGINS = "huggins", "Huggins pitch"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="headphone")
    kind = models.CharField(max_length=10, choices=Check.choices)
    position = models.PositiveSmallIntegerField()  # 0 .. HEADPHONE_TRIALS - 1 within its check
    answer = models.PositiveSmallIntegerField()  # the interval chosen, 0-2
    correct = models.BooleanField()
    answered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "kind", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind", "position"], name="headphone_answer_once"
            ),
            models.CheckConstraint(
                name="headphone_answer_valid",
                condition=Q(answer__lte=2, position__lt=HEADPHONE_TRIALS)
                & Q(kind__in=["antiphase", "huggins"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session} {self.kind} {self.position}: {self.answer}"


class AttentionCheck(models.Model):
    """A catch trial's outcome: passed when the degraded copy is rated clearly below the hidden
    reference (``mushra.attention``), or in ACR when the trap clip gets the answer it asked for
    (``mushra.trap_speech``)."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attention")
    trial = models.OneToOneField(Trial, on_delete=models.PROTECT, related_name="attention")
    catch_score = models.FloatField()
    reference_score = models.FloatField(null=True, blank=True)  # None: an ACR trap clip
    passed = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "trial"]

    def __str__(self) -> str:
        return f"{self.trial}: {'passed' if self.passed else 'failed'}"


class KeptComputation(models.Model):
    """What a kept computation of a test (a result, a plan) shares: its state while a worker
    computes it, and the fingerprint of the ratings its last finished value was computed from.

    ``attempt`` names the computation in flight, and a worker stores its value only while the
    attempt is still the row's (a superseded or duplicate task stores nothing); the row keeps
    the last finished value while the next is computed, so a page can show it marked stale.
    One row per (test, options): each subclass's constraint makes racing requests share it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    options_key = models.CharField(max_length=64)  # sha256 of ``options``
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempt = models.CharField(max_length=32, blank=True)  # the computation in flight
    wanted = models.CharField(max_length=100, blank=True)  # the ratings it is computed for
    stage = models.CharField(max_length=100, blank=True)  # what the worker is doing, in words
    percent = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)  # why the last computation failed
    queued_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(max_length=100, blank=True)  # of the last finished value
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def _kept_constraints(prefix: str) -> list:
    return [
        models.UniqueConstraint(fields=["test", "options_key"], name=f"{prefix}_unique"),
        models.CheckConstraint(
            name=f"{prefix}_status_valid",
            condition=Q(status__in=["queued", "running", "ready", "failed"]),
        ),
    ]


class ResultCache(KeptComputation):
    """The analysis of a test under one choice of results options, computed once and kept.

    A large test takes seconds to minutes to analyse, too long for a web request, so a worker
    computes it (``mushra.result_cache``) and this row says how far it got and where the files
    of the last finished result are (a folder in the default storage).
    """

    test = models.ForeignKey(ListeningTest, on_delete=models.CASCADE, related_name="result_caches")
    options = models.JSONField(default=dict)  # mushra.results.ReportOptions, as JSON
    folder = models.CharField(max_length=200, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # figures for the page

    class Meta:
        constraints = _kept_constraints("result_cache")

    def __str__(self) -> str:
        return f"{self.test} results {self.options_key[:8]}: {self.status}"


class PlanCache(KeptComputation):
    """A power plan of a test (``mushra.planning_cache``) for one set of the planning form's
    values, computed by a worker and kept until new ratings arrive.

    The simulation takes seconds to minutes, too long for a web request. The row is the plan's
    whole state: progress while a worker computes, then the plan (JSON, with its two SVG plots)
    written in one UPDATE, so nothing else holds a half plan.
    """

    test = models.ForeignKey(ListeningTest, on_delete=models.CASCADE, related_name="plan_caches")
    options = models.JSONField(default=dict)  # mushra.analysis.planning.PlanOptions, as JSON
    plan = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = _kept_constraints("plan_cache")

    def __str__(self) -> str:
        return f"{self.test} plan {self.options_key[:8]}: {self.status}"
