"""The review's outcomes and comparisons: what every study's outcome data is given for. Editors and owners add,
change (with the version they loaded) and delete them; reviewers read them."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exceptions import ServiceConflict
from extraction import selectors
from extraction.forms import ComparisonForm, OutcomeForm
from extraction.models import DATA_FIELDS
from extraction.services import studies
from extraction.views_common import is_editor
from reviews.forms import add_service_errors
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

Role = Membership.Role
GIVEN = {
    "dichotomous": "events and participants in each group",
    "continuous": "mean, SD and participants in each group",
    "giv": "an effect estimate and its standard error (log scale for ratios; crossover trials' paired effects)",
}


def outcomes(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return _page(request, review)


def _page(
    request: HttpRequest,
    review: Review,
    *,
    outcome_forms: dict[str, OutcomeForm] | None = None,
    comparison_forms: dict[str, ComparisonForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    editor = is_editor(review)
    outcome_forms, comparison_forms = outcome_forms or {}, comparison_forms or {}
    outcome_list = list(selectors.outcome_list(review=review))
    comparison_list = list(selectors.comparison_list(review=review))
    context: dict[str, Any] = {
        "review": review,
        "editor": editor,
        "outcomes": [
            (
                o,
                outcome_forms.get(str(o.pk))
                or (OutcomeForm(prefix=f"outcome{o.pk}", initial=OutcomeForm.initial_of(o)) if editor else None),
            )
            for o in outcome_list
        ],
        "comparisons": [
            (
                c,
                comparison_forms.get(str(c.pk))
                or (
                    ComparisonForm(prefix=f"comparison{c.pk}", initial=ComparisonForm.initial_of(c)) if editor else None
                ),
            )
            for c in comparison_list
        ],
        "given": GIVEN,
        "data_fields": DATA_FIELDS,
    }
    if editor:
        context["new_outcome"] = outcome_forms.get("new") or OutcomeForm(prefix="outcome-new")
        context["new_comparison"] = comparison_forms.get("new") or ComparisonForm(prefix="comparison-new")
    return render(request, "extraction/outcomes.html", context, status=status)


def _done(request: HttpRequest, review: Review, text: str, anchor: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(reverse("extraction:outcomes", args=[review.pk]) + anchor)


@require_POST
def outcome_add(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form = OutcomeForm(request.POST, prefix="outcome-new")
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version")
        try:
            made = studies.outcome_create(user=request.user, review_id=review.pk, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"Outcome “{made}” added.", f"#outcome-{made.pk}")
    return _page(request, review, outcome_forms={"new": form})


@require_POST
def outcome_edit(request: HttpRequest, review_id: int, outcome_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form = OutcomeForm(request.POST, prefix=f"outcome{outcome_id}")
    status = 200
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            saved = studies.outcome_update(
                user=request.user, review_id=review.pk, outcome_id=outcome_id, version=version, **data
            )
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"Outcome “{saved}” saved.", f"#outcome-{saved.pk}")
    selectors.outcome_get(review=review, outcome_id=outcome_id)  # another review's id: 404, not a form
    return _page(request, review, outcome_forms={str(outcome_id): form}, status=status)


@require_POST
def outcome_delete(request: HttpRequest, review_id: int, outcome_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    try:
        studies.outcome_delete(user=request.user, review_id=review.pk, outcome_id=outcome_id)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect(reverse("extraction:outcomes", args=[review.pk]) + f"#outcome-{outcome_id}")
    return _done(request, review, "Outcome deleted.", "#outcomes")


@require_POST
def comparison_add(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form = ComparisonForm(request.POST, prefix="comparison-new")
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version")
        try:
            made = studies.comparison_create(user=request.user, review_id=review.pk, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"Comparison “{made.name}” added.", f"#comparison-{made.pk}")
    return _page(request, review, comparison_forms={"new": form})


@require_POST
def comparison_edit(request: HttpRequest, review_id: int, comparison_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form = ComparisonForm(request.POST, prefix=f"comparison{comparison_id}")
    status = 200
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            saved = studies.comparison_update(
                user=request.user, review_id=review.pk, comparison_id=comparison_id, version=version, **data
            )
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"Comparison “{saved.name}” saved.", f"#comparison-{saved.pk}")
    selectors.comparison_get(review=review, comparison_id=comparison_id)
    return _page(request, review, comparison_forms={str(comparison_id): form}, status=status)


@require_POST
def comparison_delete(request: HttpRequest, review_id: int, comparison_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    try:
        studies.comparison_delete(user=request.user, review_id=review.pk, comparison_id=comparison_id)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect(reverse("extraction:outcomes", args=[review.pk]) + f"#comparison-{comparison_id}")
    return _done(request, review, "Comparison deleted.", "#comparisons")
