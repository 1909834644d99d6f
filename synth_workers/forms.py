"""The checkpoint registration form, built from the chosen backend's own declarations.

Each backend declares its file roles and config keys (DESIGN.md §5), so the form shows one upload
per role with the backend's own description, and a config box listing the keys it accepts: a new
backend gets a registration page without any form code.
"""

import json

from django import forms

from synth_workers.backends import Backend
from synth_workers.models import System


class CheckpointRegistrationForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    config = forms.CharField(
        required=False,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        label="Config (JSON)",
    )

    def __init__(self, *args, backend: type[Backend], may_trust: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backend = backend
        keys = [f"{key}: {spec.help or spec.kind}" for key, spec in backend.config_schema.items()]
        self.fields["config"].help_text = "Accepted keys — " + ("; ".join(keys) or "none")
        for role, what in backend.file_roles.items():
            self.fields[f"file_{role}"] = forms.FileField(label=f"File: {role}", help_text=what)
        if "base_backend" in backend.config_schema:  # renders with another registered system
            self.fields["base_system"] = forms.ModelChoiceField(
                queryset=System.objects.filter(kind=System.Kind.CHECKPOINT, usable=True),
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
