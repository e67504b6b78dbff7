"""The Export page: every download of a review in one place, each offered only to those who may read it (the
same rules as the endpoints it links to), and the page that imports a Sieve JSON export as a new review."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from exports import review_load, selectors, services
from exports.models import ReviewTransfer
from exports.records import CONFLICT, STATUS_CHOICES
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
    blinded = not screening_selectors.sees_all(review)
    may_read_analyses = synthesis_selectors.may_read(review)
    may_read_certainty = selectors_certainty.may_read(review)
    analyses = list(synthesis_selectors.analysis_list(review=review)) if may_read_analyses else []
    context = {
        "review": review,
        "editor": editor,
        "blinded_screening": blinded,
        "stages": Stage.choices,
        # A blinded reviewer's status is their own decision: "in conflict" is not theirs to know (the export refuses).
        "statuses": [(v, label) for v, label in STATUS_CHOICES if v != CONFLICT] if blinded else STATUS_CHOICES,
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
    """Upload a JSON export to become a new review, which the importing user owns. A worker imports it (a large
    review takes minutes) while the status page shows its progress. A file that is plainly not a review
    document is refused here, before anything is stored."""
    form = ReviewImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = services.review_import_start(user=request.user, upload=form.cleaned_data["file"])
        except review_load.ReviewImportError as exc:
            where = f" (at {exc.path})" if exc.path else ""
            form.add_error("file", f"Nothing was imported: {exc.message}{where}")
        else:
            return redirect("exports:import_status", transfer_id=transfer.pk)
    return render(request, "exports/import.html", {"form": form, "limit_mb": review_load.max_bytes() // 2**20})


def import_status(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """The progress of one's own import: the page, or the partial it polls. The poll that sees it succeed takes
    the user to the new review."""
    transfer = selectors.review_transfer_get_for_user(user=request.user, transfer_id=transfer_id)
    context = {"transfer": transfer}
    if not request.htmx:  # type: ignore[attr-defined]
        return render(request, "exports/import_status.html", context)
    response = render(request, "exports/_import_status.html", context)
    if transfer.status == ReviewTransfer.Status.SUCCEEDED and transfer.review is not None:
        messages.success(request, f"Imported “{transfer.review.title}”: you own this copy.")
        response["HX-Redirect"] = reverse("reviews:detail", args=[transfer.review.pk])
    return response
