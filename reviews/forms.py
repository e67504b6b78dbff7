from typing import cast

from django import forms
from django.core.exceptions import ValidationError

from reviews.importers import FORMATS
from reviews.models import Import, Membership, Review
from reviews.services import REVIEW_EDITABLE_FIELDS


def add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, else at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class ReviewForm(forms.ModelForm):
    # The version the user loaded; a stale one is refused on save instead of overwriting.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Review
        fields = list(REVIEW_EDITABLE_FIELDS)
        widgets = {
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "population": forms.Textarea(attrs={"rows": 2}),
            "intervention": forms.Textarea(attrs={"rows": 2}),
            "comparator": forms.Textarea(attrs={"rows": 2}),
            "outcomes": forms.Textarea(attrs={"rows": 2}),
            "eligibility_criteria": forms.Textarea(attrs={"rows": 6}),
        }


class MemberAddForm(forms.Form):
    identifier = forms.CharField(
        label="Username or e-mail", max_length=254, help_text="The person needs a Sieve account."
    )
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.REVIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="RIS, PubMed/MEDLINE (.nbib/.txt), Web of Science (.ciw/.txt), EndNote XML or tagged, BibTeX, "
        "CSV/TSV, ClinicalTrials.gov (CSV/JSON), WHO ICTRP (XML/CSV)."
    )
    source = forms.CharField(max_length=200, help_text="As it should appear in PRISMA, e.g. “MEDLINE (Ovid)”.")
    source_kind = forms.ChoiceField(
        label="Kind of source", choices=Import.SourceKind.choices, initial=Import.SourceKind.DATABASE
    )
    searched_on = forms.DateField(label="Date searched", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    strategy = forms.CharField(label="Search strategy", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Detect from the content")] + [(key, module.label) for key, module in FORMATS.items()],
    )
    confirm_duplicate_file = forms.BooleanField(
        label="Import it again although this review already holds this file", required=False
    )


class RecordFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    source = forms.ChoiceField(required=False, widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    year = forms.IntegerField(required=False, min_value=1000, max_value=2200)
    duplicates = forms.ChoiceField(
        required=False,
        choices=[("", "All records"), ("exclude", "Without duplicates"), ("only", "Duplicates only")],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )

    def __init__(self, *args, sources: list[str], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        source = cast(forms.ChoiceField, self.fields["source"])
        source.choices = [("", "All sources")] + [(s, s) for s in sources]
