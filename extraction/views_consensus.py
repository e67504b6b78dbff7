"""The consensus page (editors and owners): where the reviewers' extractions of a study differ, their values side
by side with the differences marked, settled by taking one reviewer's value or giving a new one. htmx swaps the
discrepancy after each resolution; without JavaScript the form posts and comes back."""

import difflib
import re
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from extraction import selectors
from extraction import values as V
from extraction.models import Discrepancy, FormField
from extraction.services import extracting
from extraction.views_common import INVALID, is_htmx, messages_of
from reviews.models import Membership
from reviews.selectors import review_get_for_user

Role = Membership.Role
PER_PAGE = 100
TEXT_TYPES = (V.TEXT, V.LONG_TEXT)


@dataclass
class Shown:
    """One reviewer's value: as read, and (text) in pieces with the differing words marked."""

    username: str
    text: str
    pieces: list[tuple[str, bool]]


@dataclass
class DiscrepancyView:
    discrepancy: Discrepancy
    type: str
    choices: list[str]
    values: list[Shown]
    resolution: str
    error: str = ""
    raw: str = ""

    @property
    def hint(self) -> str:
        if self.type == V.MULTIPLE_CHOICE:
            return f"Options, separated by “;”: {'; '.join(self.choices)}."
        if self.type == V.SINGLE_CHOICE:
            return f"One of: {'; '.join(self.choices)}."
        return {
            V.YES_NO: "yes or no.",
            V.DATE: "A date, YYYY-MM-DD.",
            V.INTEGER: "A whole number.",
            V.DECIMAL: "A number (a point for decimals).",
        }.get(self.type, "")


def _pieces(text: str, other: str) -> list[tuple[str, bool]]:
    """`text` in words, each marked where `other` does not have it (word-level diff)."""
    mine, theirs = re.findall(r"\S+|\s+", text), re.findall(r"\S+|\s+", other)
    matcher = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
    pieces: list[tuple[str, bool]] = []
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        chunk = "".join(mine[i1:i2])
        if chunk:
            pieces.append((chunk, tag != "equal" and bool(chunk.strip())))
    return pieces


def _field_types(discrepancies: list[Discrepancy]) -> dict[tuple[int, str], FormField]:
    keys = {d.key.split(":")[1] for d in discrepancies if d.key.startswith("field:")}
    forms = {d.form_id for d in discrepancies}
    found = FormField.objects.filter(form_id__in=forms, key__in=keys) if keys else FormField.objects.none()
    return {(f.form_id, f.key): f for f in found}


def _type_of(d: Discrepancy, fields: dict[tuple[int, str], FormField]) -> tuple[str, list[str]]:
    if d.key.startswith("field:"):
        found = fields.get((d.form_id, d.key.split(":")[1]))
        return (found.type, list(found.choices)) if found else (V.TEXT, [])
    name = d.key.rsplit(":", 1)[-1]
    if name in extracting.ARMS:  # which arm a row compares: one of the study's (prefetched by the selector)
        return V.SINGLE_CHOICE, [arm.name for arm in d.study.arms.all()]
    return (V.INTEGER if name in extracting.INTEGER_DATA else V.DECIMAL), []


def _show(d: Discrepancy, fields: dict[tuple[int, str], FormField], error: str = "", raw: str = "") -> DiscrepancyView:
    kind, choices = _type_of(d, fields)
    texts = [(name, V.display(kind, value)) for name, value in sorted(d.values.items())]
    shown = []
    for index, (name, text) in enumerate(texts):
        others = [t for i, (_, t) in enumerate(texts) if i != index]
        if kind in TEXT_TYPES and others and text and others[0]:
            pieces = _pieces(text, others[0])
        else:
            pieces = [(text, bool(others) and any(t != text for t in others))] if text else []
        shown.append(Shown(name, text, pieces))
    resolution = V.display(kind, d.resolution) if d.status == Discrepancy.Status.RESOLVED else ""
    return DiscrepancyView(d, kind, choices, shown, resolution, error, raw)


def consensus(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    status = "resolved" if request.GET.get("status") == "resolved" else "open"
    study = None
    if (request.GET.get("study") or "").isdigit():
        study = selectors.study_get(review=review, study_id=request.GET["study"])
    found = selectors.discrepancy_list(review=review, study=study, status=status).order_by("study__label", "id")
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    fields = _field_types(items)
    shown = [_show(d, fields) for d in items]
    query = f"status={status}" + (f"&study={study.pk}" if study else "")
    context = {
        "review": review,
        "status": status,
        "study": study,
        "page": page,
        "shown": shown,
        "query": query,
        "open_count": extracting.open_discrepancy_count(review),
    }
    return render(request, "extraction/consensus.html", context)


def _value(raw: str, kind: str) -> Any:
    if kind == V.MULTIPLE_CHOICE:
        return [part.strip() for part in raw.split(";") if part.strip()]
    return raw


@require_POST
def resolve(request: HttpRequest, review_id: int, discrepancy_id: int) -> HttpResponse:
    """Take one reviewer's value (`take`: their username) or a new `value`; the consensus extraction gets it."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.discrepancy_get(review=review, discrepancy_id=discrepancy_id)
    fields = _field_types([found])
    kind, _ = _type_of(found, fields)
    take = request.POST.get("take") or None
    raw = request.POST.get("value", "").strip()
    error = ""
    if not take and not raw:
        error = "Take one reviewer's value, or type the value to use."
    else:
        try:
            found = extracting.discrepancy_resolve(
                user=request.user, review_id=review.pk, discrepancy_id=found.pk, take=take,
                value=None if take else _value(raw, kind),
            )  # fmt: skip
        except ValidationError as exc:
            error = " ".join(messages_of(exc))
    back = request.POST.get("back", "")
    if not is_htmx(request):
        if error:
            messages.error(request, f"{found.study.label}, {found.label}: {error}")
        else:
            messages.success(request, f"{found.study.label}, {found.label}: settled.")
        target = reverse("extraction:consensus", args=[review.pk])
        return redirect(f"{target}?{back}#d-{found.pk}" if re.fullmatch(r"[a-z0-9=&]*", back) else target)
    context = {
        "review": review,
        "item": _show(found, fields, error=error, raw=raw if error else ""),
        "query": back,
        "open_count": extracting.open_discrepancy_count(review),
        "oob_count": True,
    }
    return render(request, "extraction/_discrepancy.html", context, status=INVALID if error else 200)
