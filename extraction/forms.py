"""Django forms of the extraction pages (studies, arms, reports, outcomes, comparisons, settings). They parse and
check the shape of the input; the services decide (their ValidationError goes back onto the form at the field,
through reviews.forms.add_service_errors)."""

from typing import Any, cast

from django import forms

from extraction.models import Arm, Comparison, ExtractionSettings, Outcome, Study


def _style(form: forms.BaseForm) -> None:
    """Bootstrap classes on every widget (the templates render widgets one by one, in tables too)."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput):
            continue
        if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs["class"] = f"{css} {widget.attrs.get('class', '')}".strip()


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


def _record_ids(text: str) -> list[int]:
    ids: list[int] = []
    for part in text.replace(";", ",").replace(" ", ",").split(","):
        part = part.strip().lstrip("#")
        if not part:
            continue
        if not part.isdigit():
            raise forms.ValidationError(f"“{part}” is not a record ID (a number, as in the records list).")
        ids.append(int(part))
    return ids


class StudyCreateForm(StyledForm):
    label = forms.CharField(
        max_length=100,
        required=False,
        help_text="The study ID, e.g. “Hardy 2012”. Leave empty to take the first record's first author and year.",
    )
    design = forms.ChoiceField(choices=Study.Design.choices, initial=Study.Design.PARALLEL)
    records = forms.MultipleChoiceField(
        label="Included records without a study", required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    record_ids = forms.CharField(
        label="Other record IDs", required=False, help_text="Comma-separated, as in the records list (optional)."
    )

    def __init__(self, *args: Any, included: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        records = cast(forms.MultipleChoiceField, self.fields["records"])
        records.choices = [(str(pk), text) for pk, text in included or []]
        if not included:
            del self.fields["records"]

    def clean_record_ids(self) -> list[int]:
        return _record_ids(self.cleaned_data.get("record_ids") or "")

    def all_record_ids(self) -> list[int]:
        picked = [int(pk) for pk in self.cleaned_data.get("records") or []]
        return list(dict.fromkeys(picked + self.cleaned_data.get("record_ids", [])))


class StudyForm(StyledForm):
    # The version the editor loaded; a stale one is refused instead of overwriting someone else's change.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    label = forms.CharField(max_length=100)
    design = forms.ChoiceField(choices=Study.Design.choices)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ReportAddForm(StyledForm):
    record = forms.CharField(label="Record ID", required=False, help_text="As in the records list.")
    pick = forms.ChoiceField(label="Or an included record without a study", required=False)
    primary = forms.BooleanField(label="Make it the primary report", required=False)
    move = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, included: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        pick = cast(forms.ChoiceField, self.fields["pick"])
        pick.choices = [("", "—")] + [(str(pk), text) for pk, text in included or []]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed, picked = (data.get("record") or "").strip().lstrip("#"), data.get("pick") or ""
        if typed and picked and typed != picked:
            raise forms.ValidationError("Give a record ID or pick a record, not both.")
        chosen = typed or picked
        if not chosen:
            self.add_error("record", "Give the record's ID or pick one of the included records.")
        elif not chosen.isdigit():
            self.add_error("record", f"“{chosen}” is not a record ID (a number, as in the records list).")
        else:
            data["record_id"] = int(chosen)
        return data


class ArmForm(StyledForm):
    name = forms.CharField(max_length=200)
    intervention = forms.CharField(max_length=500, required=False)
    dose = forms.CharField(max_length=200, required=False)
    route = forms.CharField(max_length=100, required=False)
    randomised = forms.IntegerField(min_value=0, required=False, help_text=Arm._meta.get_field("randomised").help_text)
    completed = forms.IntegerField(min_value=0, required=False, help_text=Arm._meta.get_field("completed").help_text)

    def __init__(self, *args: Any, html_form: str = "", **kwargs: Any) -> None:
        """`html_form`: the id of the <form> the inputs belong to (a table row cannot hold a form)."""
        super().__init__(*args, **kwargs)
        for name, bf_field in self.fields.items():
            if html_form:
                bf_field.widget.attrs["form"] = html_form
            if name in ("randomised", "completed"):
                bf_field.widget.attrs["class"] += " x-number"

    @classmethod
    def initial_of(cls, arm: Arm) -> dict[str, Any]:
        return {name: getattr(arm, name) for name in cls.base_fields}


class OutcomeForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=300)
    type = forms.ChoiceField(choices=Outcome.Type.choices, help_text="What each study gives: see the data table.")
    direction = forms.ChoiceField(choices=Outcome.Direction.choices, initial=Outcome.Direction.LOWER_IS_BETTER)
    unit = forms.CharField(max_length=100, required=False, help_text="e.g. “VAS 0-10”.")
    timepoint = forms.CharField(max_length=200, required=False, help_text="e.g. “End of treatment”.")

    @classmethod
    def initial_of(cls, outcome: Outcome) -> dict[str, Any]:
        return {name: getattr(outcome, name) for name in cls.base_fields}


class ComparisonForm(StyledForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(max_length=300)
    intervention = forms.CharField(max_length=300, help_text=Comparison._meta.get_field("intervention").help_text)
    control = forms.CharField(max_length=300, help_text=Comparison._meta.get_field("control").help_text)

    @classmethod
    def initial_of(cls, comparison: Comparison) -> dict[str, Any]:
        return {name: getattr(comparison, name) for name in cls.base_fields}


class AssignForm(StyledForm):
    reviewer = forms.TypedChoiceField(coerce=int, label="Assign to")

    def __init__(self, *args: Any, members: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reviewer = cast(forms.TypedChoiceField, self.fields["reviewer"])
        reviewer.choices = [(str(pk), name) for pk, name in members or []]


class SettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ExtractionSettings
        fields = ["extractors_per_study", "blinded"]
        widgets = {"extractors_per_study": forms.RadioSelect}
        labels = {"blinded": "Blinded extraction"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)
        self.fields["blinded"].help_text = (
            "Reviewers see only their own extractions, never the others', the consensus or the discrepancies. "
            "Editors and owners always see every extraction."
        )
