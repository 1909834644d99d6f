"""The synthesis job form: a corpus of the system's project, a condition grid, controls and a seed,
with what the system's backend declares beside each field (DESIGN.md §5).

The fields are parsed as ``manage.py synthesize`` parses ``--grid`` and ``--control`` (numbers
become numbers), so a job made here and one made on the command line share their items' keys.
What the backend cannot do is refused by ``job_create``, in its own words; this form only refuses
what is malformed or too large to plan.
"""

import json
import math

from django import forms

from synth_workers.backends import BackendInfo
from synth_workers.job_values import number_or_text
from synth_workers.models import Corpus, System

MAX_VALUES = 100  # per grid dimension; job_create bounds the grid's points in all
MAX_VALUE_CHARS = 100
MAX_CONTROLS = 50
LISTED = 40  # names shown in a hint before "… and N more"

GRID = {"speakers": "speaker", "styles": "style", "languages": "language"}


class SynthesisJobForm(forms.Form):
    corpus = forms.ModelChoiceField(queryset=Corpus.objects.none(), empty_label=None)
    speakers = forms.CharField(required=False, max_length=100_000, label="Speakers")
    styles = forms.CharField(required=False, max_length=100_000, label="Styles")
    languages = forms.CharField(required=False, max_length=100_000, label="Languages")
    controls = forms.CharField(
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60, "placeholder": "speed=1.2"}),
        help_text="One NAME=NUMBER a line, or a JSON object.",
    )
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)
    use_prosody_reference = forms.BooleanField(
        required=False,
        initial=True,
        label="Use prosody references",
        help_text="Off: render the corpus without its utterances' prosody references (the "
        "untransferred baseline).",
    )

    def __init__(self, *args, system: System, info: BackendInfo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["corpus"].queryset = Corpus.objects.filter(
            project_id=system.project_id
        ).order_by("name")
        for name, hint in grid_hints(info).items():
            self.fields[name].help_text = hint
            self.fields[name].widget.attrs["placeholder"] = "each utterance's own"
        accepted = ", ".join(info.controls) or "none declared (the backend checks its own)"
        self.fields["controls"].help_text += f" Controls {system.backend} takes: {accepted}."

    def clean_speakers(self) -> list:
        return _values(self.cleaned_data["speakers"], "speaker")

    def clean_styles(self) -> list:
        return _values(self.cleaned_data["styles"], "style")

    def clean_languages(self) -> list:
        return _values(self.cleaned_data["languages"], "language")

    def clean_controls(self) -> dict:
        text = self.cleaned_data["controls"].strip()
        controls = _json_object(text) if text.startswith("{") else _pairs(text)
        if len(controls) > MAX_CONTROLS:
            raise forms.ValidationError(f"{len(controls)} controls; at most {MAX_CONTROLS}")
        for name, value in controls.items():
            if not name or len(name) > MAX_VALUE_CHARS or "\x00" in name:
                raise forms.ValidationError(f"control name {name[:40]!r} is not a name")
            if not _finite_number(value):
                shown = repr(value)[:40]
                raise forms.ValidationError(f"control '{name}' must be a number, got {shown}")
        return controls

    def grid(self) -> dict:
        """The condition grid for job_create: only the dimensions given."""
        return {dim: self.cleaned_data[f] for f, dim in GRID.items() if self.cleaned_data[f]}


def grid_hints(info: BackendInfo) -> dict[str, str]:
    """What the backend declares for each grid field: its names if it lists them, else what its
    capabilities allow."""
    caps = info.capabilities

    def named(what: str, capability: str, names) -> str:
        if capability not in caps:
            return f"The backend cannot vary the {what} (no {capability} capability)."
        if not names:
            return f"The backend varies the {what} ({capability}) but lists no names in advance."
        return f"Declared: {_listed(names)}."

    native = ", ".join(sorted(info.languages)) or "unnamed"
    if info.accepted_languages:
        languages = f"Native: {native}. Declared: {_listed(info.accepted_languages)}."
    elif "cross_lingual" in caps:
        languages = f"Native: {native}; it tries others too (cross_lingual)."
    else:
        languages = f"Native: {native} only (no cross_lingual capability)."
    speakers = named("speaker", "multi_speaker", info.speakers)
    if "speaker_sampling" in caps:
        speakers += (
            " New voices: sampled:<seed> (e.g. sampled:1, sampled:2), the same voice per seed."
        )
    return {
        "speakers": speakers,
        "styles": named("style", "style", info.styles),
        "languages": languages,
    }


def _listed(names) -> str:
    names = sorted(names, key=lambda n: str(n).lower())
    more = f" … and {len(names) - LISTED} more" if len(names) > LISTED else ""
    return ", ".join(map(str, names[:LISTED])) + more


def _values(text: str, what: str) -> list:
    """'a, b' → ["a", "b"]; empty → [] (each utterance keeps its own)."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if len(values) > MAX_VALUES:
        raise forms.ValidationError(f"{len(values)} values; at most {MAX_VALUES} per field")
    for value in values:
        if len(value) > MAX_VALUE_CHARS:
            raise forms.ValidationError(f"{what} '{value[:40]}…' is over {MAX_VALUE_CHARS} chars")
    parsed = [number_or_text(v) for v in values]
    if bad := next((v for v in parsed if isinstance(v, float) and not math.isfinite(v)), None):
        raise forms.ValidationError(f"{what} {bad} is not a finite number")
    return parsed


def _pairs(text: str) -> dict:
    """NAME=VALUE lines, as the CLI's --control."""
    controls: dict = {}
    for line in filter(None, (line.strip() for line in text.splitlines())):
        name, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not name or not value:
            raise forms.ValidationError(f"{line[:60]!r}: expected NAME=VALUE, e.g. speed=1.2")
        if name in controls:
            raise forms.ValidationError(f"control '{name[:40]}' is given twice")
        controls[name] = number_or_text(value)
    return controls


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None
    except (ValueError, RecursionError):  # a number of 5,000 digits; nesting thousands deep
        raise forms.ValidationError("not a JSON object of controls") from None
    if not isinstance(value, dict):
        raise forms.ValidationError('must be a JSON object, e.g. {"speed": 1.2}')
    return value


def _finite_number(value) -> bool:
    # bool is an int in Python, but True is no speed; NaN cannot be stored as JSON in PostgreSQL.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return isinstance(value, int) or math.isfinite(value)  # a 300-digit int is no float
