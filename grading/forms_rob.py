"""Django forms of the risk-of-bias pages. They parse and check the shape of the input; the services decide
(their ValidationError goes back onto the form at the field, through reviews.forms.add_service_errors)."""

from typing import Any, cast

from django import forms

from grading.models import RobSettings, Tool


class RobSettingsForm(forms.Form):
    # The version the owner loaded; a stale one is refused instead of overwriting someone else's change.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tool = forms.ChoiceField(
        choices=Tool.choices,
        widget=forms.RadioSelect,
        help_text="RoB 2 for randomised trials (signalling questions propose each domain's judgement), Cochrane "
        "RoB 1 (a judgement per domain), ROBINS-I for non-randomised studies.",
    )
    assessors_per_study = forms.TypedChoiceField(
        label="Assessors per study",
        coerce=int,
        choices=cast(list[tuple[int, str]], RobSettings._meta.get_field("assessors_per_study").choices),
        widget=forms.RadioSelect,
    )
    blinded = forms.BooleanField(
        label="Blind the assessors",
        required=False,
        help_text="Each assessor sees only their own assessments; the consensus, the discrepancies and the plots "
        "are for editors and owners. Unblinded, every member sees every assessment.",
    )

    def __init__(self, *args: Any, tool_locked: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, bound in self.fields.items():
            if isinstance(bound.widget, forms.RadioSelect | forms.CheckboxInput):
                bound.widget.attrs["class"] = "form-check-input"
            elif name != "version":
                bound.widget.attrs["class"] = "form-control"
        if tool_locked:
            self.fields["tool"].disabled = True
            self.fields["tool"].help_text = (
                "Assessments exist with this tool, so it cannot change now (their questions and judgements belong "
                "to it)."
            )
