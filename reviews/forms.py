from django import forms

from reviews.models import Membership, Review
from reviews.services import REVIEW_EDITABLE_FIELDS


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
