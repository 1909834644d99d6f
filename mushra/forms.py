"""The scientist's "new listening test" form: pick a corpus, then the conditions to compare."""

import json

from django import forms
from django.utils.text import slugify

from mushra import test_types
from mushra.models import (
    HEADPHONE_TRIALS,
    MAX_ATTENTION_CHECKS,
    MAX_TIME_LIMIT_MINUTES,
    ListeningTest,
)
from synth_workers.models import Corpus, Stimulus, System


def condition_choices(corpus: Corpus) -> list[tuple[str, str]]:
    """Every (system, synthesis condition) with ready stimuli in the corpus, recordings aside;
    systems of the corpus' project only."""
    rows = (
        Stimulus.objects.filter(
            utterance__corpus=corpus,
            status=Stimulus.Status.READY,
            system__project_id=corpus.project_id,
        )
        .exclude(system__kind=System.Kind.RECORDING)
        .values_list("system_id", "system__name", "condition")
    )
    found = {}
    for system_id, name, condition in rows:
        value = json.dumps([system_id, condition], sort_keys=True)
        parts = [f"{k}={v}" for k, v in sorted(condition.items())]
        found[value] = " · ".join([name, *parts])
    return sorted(found.items(), key=lambda item: item[1])


# Shown together, folded away: what a crowdsourced test adds (``mushra.screening_stage``).
CROWD_FIELDS = (
    "headphone_check",
    "headphone_pass_at",
    "volume_calibration",
    "attention_checks",
    "time_limit_minutes",
    "completion_code",
    "screen_out_code",
    "screen_out_url",
    "time_out_code",
    "time_out_url",
)


class NewTestForm(forms.ModelForm):
    CROWD_FIELDS = CROWD_FIELDS
    conditions = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, help_text="The systems (and conditions) to compare"
    )
    anchor_low = forms.BooleanField(required=False, initial=True, label="Low anchor (3.5 kHz)")
    anchor_mid = forms.BooleanField(required=False, initial=True, label="Mid anchor (7 kHz)")
    gold = forms.BooleanField(
        required=False,
        label="Gold clips (ACR and SMOS, ITU-T P.808)",
        help_text="The recordings must be rated 4 or 5 (and in ACR the low anchor 1 or 2): a "
        "listener who misses one is excluded, and these clips stay out of the MOS",
    )
    redirect_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Sent here when done, e.g. Prolific's completion URL; {code} allowed",
    )
    screen_out_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Sent here when the headphone check fails, e.g. Prolific's; {code} allowed",
    )
    time_out_url = forms.URLField(
        required=False,
        assume_scheme="https",
        help_text="Sent here when the time limit is up; {code} allowed",
    )
    headphone_pass_at = forms.IntegerField(
        min_value=1,
        max_value=HEADPHONE_TRIALS,
        initial=5,
        required=False,
        help_text=f"Correct answers of {HEADPHONE_TRIALS} to pass each check (5 in both papers)",
    )
    attention_checks = forms.IntegerField(
        min_value=0,
        max_value=MAX_ATTENTION_CHECKS,
        initial=0,
        required=False,
        help_text="Catch trials per session. MUSHRA: one sample is a clearly degraded copy, to "
        "be rated at least 20 below the hidden reference; ACR: a P.808 trap clip whose voice asks "
        "for '2: Poor'. Listeners who fail are excluded",
    )
    time_limit_minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_TIME_LIMIT_MINUTES,
        required=False,
        help_text="Empty: no limit. Counted from the consent; the time-out code is shown after it",
    )

    class Meta:
        model = ListeningTest
        fields = [
            "name",
            "slug",
            "test_type",
            "question",
            "instructions",
            "trials_per_session",
            "ratings_wanted",
            "require_play_all",
            "require_one_100",
            "training",
            "questionnaire",
            "consent_text",
            "redirect_url",
            "participant_params",
            "language",
            *CROWD_FIELDS,
        ]
        widgets = {
            "instructions": forms.Textarea(attrs={"rows": 4}),
            "consent_text": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, corpus: Corpus, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.corpus = corpus
        self.fields["conditions"].choices = condition_choices(corpus)
        self.fields["slug"].required = False
        self.fields["test_type"].required = False  # a form posted without it: MUSHRA, as before
        self.fields["slug"].help_text = "The listener link's last part; made from the name if empty"

    @property
    def crowd_errors(self) -> bool:
        return any(name in self.errors for name in CROWD_FIELDS)

    # Left empty (an older script posting the form, a field cleared): the model's default.
    def clean_headphone_pass_at(self) -> int:
        return self.cleaned_data.get("headphone_pass_at") or 5

    def clean_attention_checks(self) -> int:
        return self.cleaned_data.get("attention_checks") or 0

    def clean_test_type(self) -> str:
        return self.cleaned_data.get("test_type") or "mushra"

    def clean_require_one_100(self) -> bool:
        # A form defaults it on; a test without a reference has nothing that deserves 100.
        kind = test_types.TYPES.get(self.data.get("test_type", "mushra"), test_types.MUSHRA)
        return self.cleaned_data.get("require_one_100", False) and kind.one_100

    def clean_slug(self) -> str:
        return self.cleaned_data["slug"] or slugify(self.data.get("name", ""))[:100]

    def chosen(self) -> list[tuple[int, dict]]:
        return [tuple(json.loads(value)) for value in self.cleaned_data["conditions"]]

    def anchors(self) -> tuple[str, ...]:
        return tuple(a for a in ("low", "mid") if self.cleaned_data[f"anchor_{a}"])
