"""The results page's planning form: the difference to detect and how surely (``planning_cache``
computes the plan of its values on a worker).

Every field has bounds, so a value typed into the URL is a form error naming its field, never
a 500 (an integer past a database column, a float overflow) or a simulation running for hours.
"""

from django import forms

from mushra.analysis.planning import PlanOptions

PAGE_SIMULATIONS = 40  # 4 × 40 fits ≈ 15 s on a worker; the command line defaults to 100


class PlanningForm(forms.Form):
    difference = forms.FloatField(
        min_value=0.1, max_value=100, help_text="MUSHRA points between two systems"
    )
    power = forms.FloatField(min_value=0.5, max_value=0.99, initial=0.8)
    alpha = forms.FloatField(min_value=0.001, max_value=0.2, initial=0.05)
    items = forms.IntegerField(
        required=False, min_value=2, max_value=500, help_text="Default: the test's items"
    )
    simulations = forms.IntegerField(
        min_value=10,
        max_value=400,
        initial=PAGE_SIMULATIONS,
        help_text="Simulated experiments per listener count (about 0.1 s each, four counts)",
    )
    precision = forms.FloatField(
        required=False,
        min_value=0.1,
        max_value=100,
        help_text="Target 95 % CI half-width of the sequential view (default: planned)",
    )
    new = forms.ChoiceField(required=False, label="Headline: new system")
    base = forms.ChoiceField(required=False, label="Headline: baseline")

    def __init__(self, *args, labels: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((label, label) for label in labels)]
        self.fields["new"].choices = choices
        self.fields["base"].choices = choices

    def clean(self):
        data = super().clean()
        new, base = data.get("new"), data.get("base")
        if bool(new) != bool(base):
            self.add_error(
                "base" if new else "new", "Choose both systems of the headline, or none."
            )
        elif new and new == base:
            self.add_error("base", "The baseline must differ from the new system.")
        return data

    def options(self) -> PlanOptions:
        data = self.cleaned_data
        return PlanOptions(
            difference=data["difference"],
            alpha=data["alpha"],
            target=data["power"],
            items=(data["items"],) if data.get("items") else (),
            simulations=data["simulations"],
            half_width=data.get("precision"),
            headline=(data["new"], data["base"]) if data.get("new") else None,
        )
