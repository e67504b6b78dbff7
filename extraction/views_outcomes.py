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


# Outcomes and comparisons are added and edited the same way: the form, the services and the getter differ.
KINDS: dict[str, tuple[Any, Any, Any, Any]] = {
    "outcome": (OutcomeForm, studies.outcome_create, studies.outcome_update, selectors.outcome_get),
    "comparison": (ComparisonForm, studies.comparison_create, studies.comparison_update, selectors.comparison_get),
}


def _add(request: HttpRequest, review_id: int, kind: str) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form_class, create, _, _ = KINDS[kind]
    form = form_class(request.POST, prefix=f"{kind}-new")
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version")
        try:
            made = create(user=request.user, review_id=review.pk, **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"{kind.title()} “{made}” added.", f"#{kind}-{made.pk}")
    forms: dict[str, Any] = {f"{kind}_forms": {"new": form}}
    return _page(request, review, **forms)


def _edit(request: HttpRequest, review_id: int, kind: str, pk: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form_class, _, update, get = KINDS[kind]
    form = form_class(request.POST, prefix=f"{kind}{pk}")
    status = 200
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            saved = update(user=request.user, review_id=review.pk, version=version, **{f"{kind}_id": pk}, **data)
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, review, f"{kind.title()} “{saved}” saved.", f"#{kind}-{saved.pk}")
    get(review=review, **{f"{kind}_id": pk})  # another review's id: 404, not a form
    forms: dict[str, Any] = {f"{kind}_forms": {str(pk): form}}
    return _page(request, review, **forms, status=status)


@require_POST
def outcome_add(request: HttpRequest, review_id: int) -> HttpResponse:
    return _add(request, review_id, "outcome")


@require_POST
def outcome_edit(request: HttpRequest, review_id: int, outcome_id: int) -> HttpResponse:
    return _edit(request, review_id, "outcome", outcome_id)


@require_POST
def comparison_add(request: HttpRequest, review_id: int) -> HttpResponse:
    return _add(request, review_id, "comparison")


@require_POST
def comparison_edit(request: HttpRequest, review_id: int, comparison_id: int) -> HttpResponse:
    return _edit(request, review_id, "comparison", comparison_id)


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
def comparison_delete(request: HttpRequest, review_id: int, comparison_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    try:
        studies.comparison_delete(user=request.user, review_id=review.pk, comparison_id=comparison_id)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect(reverse("extraction:outcomes", args=[review.pk]) + f"#comparison-{comparison_id}")
    return _done(request, review, "Comparison deleted.", "#comparisons")
