"""The forms of the imports and of checkpoint registration, shared by the admin and the
scientist's workspace (``synth_workers.views.workspace``): one set of fields and checks for both.

The checkpoint registration form is built from the chosen backend's own declarations. Each backend
declares its file roles and config keys (DESIGN.md §5), so the form shows one upload per role with
the backend's own description, and a config box listing the keys it accepts: a new backend gets a
registration page without any form code.
"""

import json
import tempfile
from pathlib import Path

from django import forms
from django.db.models import QuerySet

from evalsite.errors import InputError
from synth_workers.backends import Backend
from synth_workers.models import Corpus, System
from synth_workers.services.import_runs import upload_store
from synth_workers.services.registration import system_register

SKIP_BAD_HELP = "Import the rest and list what was bad"


class CorpusImportForm(forms.Form):
    name = forms.CharField(max_length=200)
    manifest = forms.FileField(
        help_text="CSV or JSONL: key, text, language, speaker, style, prosody_reference, recording"
    )
    audio = forms.FileField(required=False, help_text="A zip of the audio files the manifest names")
    default_language = forms.CharField(max_length=35, initial="en")
    skip_bad = forms.BooleanField(required=False, help_text=SKIP_BAD_HELP)


class RenderedAudioForm(forms.Form):
    """A system's pre-rendered audio for a corpus named elsewhere (the workspace's URL)."""

    system_name = forms.CharField(max_length=200)
    audio = forms.FileField(help_text="A zip whose file names are utterance keys")
    pattern = forms.CharField(initial="{key}", help_text="Path of each file; {key} = the key")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    skip_bad = forms.BooleanField(required=False, help_text=SKIP_BAD_HELP)


class RenderedImportForm(RenderedAudioForm):
    """The admin's: the corpus is chosen on the form."""

    corpus = forms.ModelChoiceField(queryset=Corpus.objects.all())
    field_order = ["corpus"]


class CheckpointRegistrationForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    config = forms.CharField(
        required=False,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Config (JSON)",
    )

    def __init__(
        self,
        *args,
        backend: type[Backend],
        may_trust: bool,
        base_systems: QuerySet[System] | None = None,
        **kwargs,
    ) -> None:
        """``base_systems``: the systems a wrapping backend may build on (the project's, in
        the workspace); every usable checkpoint when None."""
        super().__init__(*args, **kwargs)
        self.backend = backend
        keys = [f"{key}: {spec.help or spec.kind}" for key, spec in backend.config_schema.items()]
        self.fields["config"].help_text = "Accepted keys — " + ("; ".join(keys) or "none")
        for role, what in backend.file_roles.items():
            self.fields[f"file_{role}"] = forms.FileField(label=f"File: {role}", help_text=what)
        if "base_backend" in backend.config_schema:  # renders with another registered system
            self.fields["base_system"] = forms.ModelChoiceField(
                queryset=(System.objects.all() if base_systems is None else base_systems)
                .filter(kind=System.Kind.CHECKPOINT, usable=True)
                .order_by("name"),
                help_text="The registered system whose rendering this one transforms",
            )
        if may_trust:
            self.fields["trusted"] = forms.BooleanField(
                required=False,
                help_text="Allow pickle-based files (TorchScript …): they run code when loaded",
            )

    def clean_config(self) -> dict:
        text = self.cleaned_data["config"].strip() or "{}"
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(config, dict):
            raise forms.ValidationError('must be a JSON object, e.g. {"language": "en"}')
        return config

    def uploads(self) -> dict:
        """role -> uploaded file, from the per-role fields."""
        return {
            name.removeprefix("file_"): upload
            for name, upload in self.cleaned_data.items()
            if name.startswith("file_")
        }

    def register(self, *, owner, project_id: int | None = None) -> System | None:
        """The registered system, or None with the service's refusal added to the form's errors.
        The uploads live in a temporary folder only while the service hashes and stores them."""
        data = self.cleaned_data
        config = dict(data["config"])
        if data.get("base_system"):
            config["base_system"] = data["base_system"].name
        try:
            with tempfile.TemporaryDirectory() as folder:
                files = {
                    role: upload_store(upload, Path(folder), role)
                    for role, upload in self.uploads().items()
                }
                return system_register(
                    name=data["name"],
                    backend=self.backend.name,
                    config=config,
                    files=files,
                    trusted=data.get("trusted", False),
                    owner=owner,
                    description=data["description"],
                    project_id=project_id,
                )
        except InputError as exc:
            self.add_error(None, exc.message)
            for problem in exc.problems:
                self.add_error(None, problem)
        return None
