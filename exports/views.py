"""The Export page: every download of a review in one place, each offered only to those who may read it (the
same rules as the endpoints it links to), and the page that imports a Sieve JSON export as a new review."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from exports import review_load
from exports.records import STATUS_CHOICES
from grading import selectors as rob_selectors
from grading import selectors_certainty
from reviews.models import Membership, role_at_least
from reviews.selectors import review_get_for_user
from screening import selectors as screening_selectors
from screening.models import Stage
from synthesis import selectors as synthesis_selectors

Role = Membership.Role


def export_page(request: HttpRequest, review_pk: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_pk)
    editor = role_at_least(review.my_role, Role.EDITOR)
    may_read_analyses = synthesis_selectors.may_read(review)
    may_read_certainty = selectors_certainty.may_read(review)
    analyses = list(synthesis_selectors.analysis_list(review=review)) if may_read_analyses else []
    context = {
        "review": review,
        "editor": editor,
        "blinded_screening": not screening_selectors.sees_all(review),
        "stages": Stage.choices,
        "statuses": STATUS_CHOICES,
        "may_read_analyses": may_read_analyses,
        "may_read_certainty": may_read_certainty,
        "may_read_rob": rob_selectors.sees_all(review),
        "analyses": analyses,
    }
    return render(request, "exports/export.html", context)


class ReviewImportForm(forms.Form):
    file = forms.FileField(
        label="Sieve JSON export",
        help_text="A .json file downloaded from another review's Export page (schema sieve-review/1).",
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )


def import_review(request: HttpRequest) -> HttpResponse:
    """Import a JSON export as a new review, which the importing user owns. All or nothing: a document that does
    not fit the schema adds nothing and the page says what is wrong and where."""
    form = ReviewImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = review_load.review_import(user=request.user, document_or_file=form.cleaned_data["file"])
        except review_load.ReviewImportError as exc:
            where = f" (at {exc.path})" if exc.path else ""
            form.add_error("file", f"Nothing was imported: {exc}{where}")
        else:
            messages.success(request, f"Imported “{review.title}”: you own this copy.")
            return redirect("reviews:detail", review_id=review.pk)
    return render(request, "exports/import.html", {"form": form, "limit_mb": review_load.max_bytes() // 2**20})
