"""The extraction page: a study, its form's fields and its outcome data, for one reviewer's extraction or (for an
editor) the study's consensus.

Each input saves as the reviewer leaves it: htmx posts the whole form with `changed` naming the input, and
`extract_save` saves only that field (or that outcome-data row) with the page's `version`. The answer swaps the
input's status ("Saved", or the message at the field) and the page's version out of band; the form queues its
requests (`hx-sync`), so two quick edits never race into a spurious conflict. A stale version (a save from
another tab or another editor) is refused by the service: 409, its message at the top, nothing overwritten.
Without JavaScript the whole form posts to `extract` and comes back (also saved)."""

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from core.exceptions import ServiceConflict
from extraction import selectors
from extraction import values as V
from extraction.models import (
    ALL_DATA_FIELDS,
    DATA_FIELDS,
    Arm,
    Discrepancy,
    Extraction,
    ExtractionForm,
    FormField,
    OutcomeData,
    StudyReport,
)
from extraction.selectors import DataCell, ExtractionPage
from extraction.services import extracting
from extraction.views_common import CONFLICT, INVALID, can_write, field_errors, is_editor, is_htmx, version_of
from reviews.models import Review
from reviews.selectors import review_get_for_user

FIELD, DATA = "field-", "data-"
ROW_TOKEN = re.compile(r"^(?:r(?P<row>\d+)|c(?P<comparison>\d+)-o(?P<outcome>\d+))$")
DATA_NAME = re.compile(r"^data-(?P<token>r\d+|c\d+-o\d+)-(?P<name>[a-z0-9_]+)$")
ROW_INPUTS = ("arm_1", "arm_2", "note")
HEADERS = {"events": "Events", "total": "N", "mean": "Mean", "sd": "SD", "estimate": "Estimate", "se": "SE"}
INTEGER_DATA = {"events_1", "total_1", "events_2", "total_2"}
NOT_SAVED = "Not saved: see the message at the top of the page."


# --- what the page shows ------------------------------------------------------------------------------------------


def dom_id(name: str) -> str:
    """The element id of an input named `name` (keys are lower case, so `-A` cannot clash with one)."""
    if name.startswith(FIELD):
        key, _, arm = name[len(FIELD) :].partition("@")
        return f"f-{key}" + (f"-A{arm}" if arm else "")
    return "d-" + name[len(DATA) :]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


@dataclass
class Input:
    """One input of the page: a field (or a field for one arm), or one number, arm or note of an outcome-data row."""

    name: str
    label: str
    kind: str  # a field type, or "arm" (an arm picker) for outcome data
    value: Any = None
    raw: list[str] | None = None  # what was posted, shown again when the save was refused
    error: str = ""
    flagged: str = ""  # on the consensus, an open discrepancy here: the reviewers' values
    required: bool = False
    help_text: str = ""
    unit: str = ""
    choices: list[tuple[str, str]] = dc_field(default_factory=list)

    @property
    def dom_id(self) -> str:
        return dom_id(self.name)

    @property
    def text(self) -> str:
        if self.raw is not None:
            return "; ".join(self.raw)
        return _text(self.value)

    @property
    def picked(self) -> list[str]:
        if self.raw is not None:
            return self.raw
        if self.value is None:
            return []
        return [str(v) for v in self.value] if isinstance(self.value, list) else [_text(self.value)]

    @property
    def display(self) -> str:
        if self.kind == "arm":
            return next((label for value, label in self.choices if value == self.text), "")
        if self.kind in V.TYPES:
            return V.display(self.kind, self.value)
        return _text(self.value)

    @property
    def group(self) -> bool:
        return self.kind in (V.MULTIPLE_CHOICE, V.YES_NO)

    @property
    def step(self) -> str:
        return "1" if self.kind == V.INTEGER else "any"

    @property
    def is_field(self) -> bool:
        return self.name.startswith(FIELD)

    @property
    def yes_no_options(self) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No"), ("", "Not answered")]

    @property
    def status(self) -> "Status":
        return Status(self.name, self.error, invalid=bool(self.error))


@dataclass
class FieldBlock:
    field: FormField
    input: Input | None = None
    arms: list[Input] = dc_field(default_factory=list)
    grid = False

    @property
    def flagged(self) -> bool:
        return bool(self.input and self.input.flagged) or any(i.flagged for i in self.arms)


@dataclass
class ArmGrid:
    """Consecutive per-arm fields of a section, as one table: a row per field, a column per arm."""

    fields: list[FieldBlock]
    grid = True


@dataclass
class SectionView:
    title: str
    help_text: str
    items: list[FieldBlock | ArmGrid]


@dataclass
class RowView:
    token: str
    subgroup: str
    exists: bool
    inputs: list[Input]  # in the cell's column order
    error: str = ""


@dataclass
class CellView:
    cell: DataCell
    columns: list[tuple[str, str, str]]  # name, header, group note
    rows: list[RowView]
    add_error: str = ""
    add_raw: str = ""

    @property
    def token(self) -> str:
        return f"c{self.cell.comparison.pk}-o{self.cell.outcome.pk}"

    @property
    def dom_id(self) -> str:
        return f"cell-{self.token}"


def _columns(cell: DataCell) -> list[tuple[str, str, str]]:
    """The row's inputs in order: group 1's arm and numbers, group 2's, then an effect estimate, and the note."""
    names = cell.names
    group_1 = [n for n in names if n.endswith("_1")]
    group_2 = [n for n in names if n.endswith("_2")]
    other = [n for n in names if n not in group_1 and n not in group_2]
    columns = [("arm_1", "Arm", "group 1")]
    columns += [(n, HEADERS[n.rsplit("_", 1)[0]], "group 1") for n in group_1]
    columns += [("arm_2", "Arm", "group 2")]
    columns += [(n, HEADERS[n.rsplit("_", 1)[0]], "group 2") for n in group_2]
    columns += [(n, HEADERS[n], "") for n in other]
    columns += [("note", "Note", "")]
    return columns


class Overlay:
    """What a refused no-JavaScript save posted, and the messages at its inputs, shown again on the page."""

    def __init__(self, posted: QueryDict | None = None, errors: dict[str, str] | None = None) -> None:
        self.posted, self.errors = posted, errors or {}

    def raw(self, name: str) -> list[str] | None:
        if self.posted is None or name not in self.posted:
            return [] if self.posted is not None and name in self.posted.getlist("fields") else None
        return self.posted.getlist(name)


def build_sections(page: ExtractionPage, overlay: Overlay, open_values: dict[str, str]) -> list[SectionView]:
    views = []
    for section, rows in page.sections:
        items: list[FieldBlock | ArmGrid] = []
        for row in rows:
            f = row.field
            common: dict[str, Any] = {
                "kind": f.type,
                "required": f.required,
                "unit": f.unit,
                "choices": [(str(c), str(c)) for c in f.choices],
            }
            block = FieldBlock(f)
            if f.per_arm:
                for arm, value in row.per_arm:
                    name = f"{FIELD}{f.key}@{arm.pk}"
                    block.arms.append(
                        Input(
                            name,
                            f"{f.label} ({arm.name})",
                            value=value,
                            raw=overlay.raw(name),
                            error=overlay.errors.get(name, ""),
                            flagged=open_values.get(f"field:{f.key}:{arm.pk}", ""),
                            **common,
                        )  # fmt: skip
                    )
                last = items[-1] if items else None
                if isinstance(last, ArmGrid):
                    last.fields.append(block)
                else:
                    items.append(ArmGrid([block]))
            else:
                name = f"{FIELD}{f.key}"
                block.input = Input(
                    name, f.label, value=row.value, raw=overlay.raw(name), error=overlay.errors.get(name, ""),
                    flagged=open_values.get(f"field:{f.key}", ""), help_text=f.help_text, **common,
                )  # fmt: skip
                items.append(block)
        views.append(SectionView(section.title, section.help_text, items))
    return views


def _row_view(cell: DataCell, columns: list[tuple[str, str, str]], token: str, row: OutcomeData | None,
              arms: list[Arm], open_values: dict[str, str], overlay: Overlay) -> RowView:  # fmt: skip
    subgroup = row.subgroup if row else ""
    arm_choices = [(str(a.pk), a.name) for a in arms]
    inputs = []
    for name, header, group in columns:
        input_name = f"{DATA}{token}-{name}"
        value = getattr(row, f"{name}_id" if name in ("arm_1", "arm_2") else name) if row else None
        if name in ("arm_1", "arm_2"):
            kind = "arm"
        else:
            kind = V.TEXT if name == "note" else V.INTEGER if name in INTEGER_DATA else V.DECIMAL
        label = f"{header}{f', {group}' if group else ''} – {subgroup or 'all participants'}"
        flagged = open_values.get(f"data:{cell.comparison.pk}:{cell.outcome.pk}:{subgroup}:{name}", "")
        inputs.append(
            Input(
                input_name,
                label,
                kind,
                value=value,
                raw=overlay.raw(input_name),
                error=overlay.errors.get(input_name, ""),
                flagged=flagged,
                choices=arm_choices if kind == "arm" else [],
            )  # fmt: skip
        )
    return RowView(token, subgroup, row is not None, inputs, overlay.errors.get(f"row-{token}", ""))


def build_cells(page: ExtractionPage, overlay: Overlay, open_values: dict[str, str]) -> list[CellView]:
    views = []
    for cell in page.data:
        columns = _columns(cell)
        token = f"c{cell.comparison.pk}-o{cell.outcome.pk}"
        rows = [_row_view(cell, columns, f"r{r.pk}", r, page.arms, open_values, overlay) for r in cell.rows]
        if not any(r.subgroup == "" for r in cell.rows):  # the row for all participants, saved with its first number
            rows.insert(0, _row_view(cell, columns, token, None, page.arms, open_values, overlay))
        views.append(CellView(cell, columns, rows, overlay.errors.get(f"add-{token}", "")))
    return views


@dataclass
class FormVersions:
    """Where the extraction stands among its form's versions: the published one, and the user's newer extraction."""

    published: ExtractionForm | None = None
    newer: Extraction | None = None


def _versions(review: Review, extraction: Extraction) -> FormVersions:
    form = extraction.form
    if form.status != ExtractionForm.Status.RETIRED:
        return FormVersions()
    published = ExtractionForm.objects.filter(
        review=review, name=form.name, status=ExtractionForm.Status.PUBLISHED
    ).first()
    newer = (
        Extraction.objects.filter(
            study_id=extraction.study_id,
            reviewer_id=extraction.reviewer_id,
            form__name=form.name,
            form__number__gt=form.number,
        )
        .select_related("form")
        .order_by("-form__number")
        .first()
    )
    return FormVersions(published, newer)


def _open_values(page: ExtractionPage) -> dict[str, str]:
    """On the consensus: each open discrepancy's reviewers' values, as read, by its key (shown at the spot)."""
    types = {row.field.key: row.field.type for _, rows in page.sections for row in rows}
    found = Discrepancy.objects.filter(study=page.study, form=page.form, status=Discrepancy.Status.OPEN)
    shown = {}
    for d in found:
        kind = types.get(d.key.split(":")[1], V.TEXT) if d.key.startswith("field:") else V.DECIMAL
        shown[d.key] = " · ".join(
            f"{name}: {V.display(kind, value) or '(empty)'}" for name, value in sorted(d.values.items())
        )
    return shown


def _context(request: HttpRequest, review: Review, extraction: Extraction, overlay: Overlay) -> dict[str, Any]:
    page = selectors.extraction_page(review=review, extraction=extraction)
    versions = _versions(review, extraction)
    writer = can_write(review, request.user, extraction)
    primary = StudyReport.objects.filter(study=page.study, primary=True).select_related("record").first()
    open_values = _open_values(page) if page.open_keys else {}
    return {
        "review": review,
        "extraction": extraction,
        "page": page,
        "study": page.study,
        "form": page.form,
        "arms": page.arms,
        "primary": primary.record if primary else None,
        "sections": build_sections(page, overlay, open_values),
        "cells": build_cells(page, overlay, open_values),
        "versions": versions,
        "editable": writer and versions.newer is None,
        "writer": writer,
        "editor": is_editor(review),
        "consensus": extraction.is_consensus,
        "open_count": len(page.open_keys),
        "save_url": reverse("extraction:extract_save", args=[review.pk, extraction.pk]),
    }


def _load(request: HttpRequest, review_id: int, extraction_id: int) -> tuple[Review, Extraction]:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return review, selectors.extraction_get(review=review, user=request.user, extraction_id=extraction_id)


def _page(
    request: HttpRequest,
    review: Review,
    extraction: Extraction,
    *,
    overlay: Overlay | None = None,
    alert: str = "",
    head_error: str = "",
    missing: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _context(request, review, extraction, overlay or Overlay())
    if overlay and overlay.posted is not None:
        context["version"] = version_of(overlay.posted) or 0  # a refused save keeps the version it read
    else:
        context["version"] = extraction.version
    context |= {"alert": alert, "head_error": head_error, "missing": missing or []}
    return render(request, "extraction/extract.html", context, status=status)


# --- reading the posted inputs ------------------------------------------------------------------------------------


def _raw(posted: QueryDict, name: str) -> Any:
    """An input's value: a list for several ticked boxes, else the string (missing: empty, i.e. no value)."""
    found = posted.getlist(name)
    return found if len(found) > 1 else (found[0] if found else "")


class RowGone(Exception):  # noqa: N818 - a state, raised and caught here only
    pass


def _data_row(posted: QueryDict, token: str, existing: dict[int, OutcomeData]) -> dict[str, Any]:
    """The outcome-data row named by `token` (`r<id>`, or `c<comparison>-o<outcome>` for the row without a subgroup)
    with every one of its inputs the page sent."""
    match = ROW_TOKEN.match(token)
    if match is None:
        raise RowGone
    if match["row"]:
        found = existing.get(int(match["row"]))
        if found is None:
            raise RowGone
        row: dict[str, Any] = {
            "comparison": found.comparison_id, "outcome": found.outcome_id, "subgroup": found.subgroup,
        }  # fmt: skip
    else:
        row = {"comparison": int(match["comparison"]), "outcome": int(match["outcome"]), "subgroup": ""}
    for name in (*ALL_DATA_FIELDS, *ROW_INPUTS):
        key = f"{DATA}{token}-{name}"
        if key in posted:
            row[name] = posted.get(key, "")
    return row


def _row_errors(exc: ValidationError, tokens: list[str]) -> dict[str, str]:
    """The service's `rows[i].name` messages by input name (a message about the row itself under `row-<token>`)."""
    found: dict[str, str] = {}
    for key, message in field_errors(exc).items():
        match = re.match(r"^rows\[(\d+)\]\.(\w+)$", key)
        if match is None or int(match[1]) >= len(tokens):
            found[""] = f"{found.get('', '')} {message}".strip()
            continue
        token, name = tokens[int(match[1])], match[2]
        if name in (*ALL_DATA_FIELDS, *ROW_INPUTS):
            found[f"{DATA}{token}-{name}"] = message
        else:
            found[f"row-{token}"] = f"{found.get(f'row-{token}', '')} {message}".strip()
    return found


def _existing_rows(extraction: Extraction) -> dict[int, OutcomeData]:
    return {row.pk: row for row in OutcomeData.objects.filter(extraction=extraction)}


def _rows_without(extraction: Extraction, row_id: int) -> list[dict[str, Any]]:
    """Every outcome-data row of the extraction as it is, but one (to save with `replace`, which removes it)."""
    rows = []
    for row in OutcomeData.objects.filter(extraction=extraction).select_related("outcome"):
        if row.pk == row_id:
            continue
        given: dict[str, Any] = {
            "comparison": row.comparison_id, "outcome": row.outcome_id, "subgroup": row.subgroup, "note": row.note,
        }  # fmt: skip
        for name in DATA_FIELDS[row.outcome.type]:
            given[name] = _text(getattr(row, name))
        for name in ("arm_1", "arm_2"):
            if getattr(row, f"{name}_id"):
                given[name] = getattr(row, f"{name}_id")
        rows.append(given)
    return rows


# --- the page -----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def extract(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    review, extraction = _load(request, review_id, extraction_id)
    if request.method == "POST":
        return _save_all(request, review, extraction)
    return _page(request, review, extraction)


def _save_all(request: HttpRequest, review: Review, extraction: Extraction) -> HttpResponse:
    """Without JavaScript: save every input the page showed (values and outcome data, all or nothing), then do
    what the pressed button asked on what is now saved (mark complete or reopen, add or remove a row)."""
    posted = request.POST
    version = version_of(posted) or 0
    values = {name[len(FIELD) :]: _raw(posted, name) for name in posted.getlist("fields") if name.startswith(FIELD)}
    existing = _existing_rows(extraction)
    rows, tokens = [], []
    for token in posted.getlist("rows"):
        try:
            row = _data_row(posted, token, existing)
        except RowGone:
            return _page(request, review, extraction, overlay=Overlay(posted), status=CONFLICT,
                         alert="A row of outcome data was removed since you opened the page.")  # fmt: skip
        if not token.startswith("r") and not any(str(row.get(n, "")).strip() for n in (*ALL_DATA_FIELDS, *ROW_INPUTS)):
            continue  # an untouched empty row stays unsaved
        rows.append(row)
        tokens.append(token)
    stage = "values"
    try:
        with transaction.atomic():  # the values and the outcome data: all or nothing
            version = extracting.extraction_save(
                user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version, values=values
            ).version
            if rows:
                stage = "data"
                version = extracting.outcome_data_save(
                    user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version, rows=rows
                ).version
    except ServiceConflict as exc:
        return _page(request, review, extraction, overlay=Overlay(posted), alert=exc.message, status=CONFLICT)
    except ValidationError as exc:
        if stage == "values":
            errors = {f"{FIELD}{key}": message for key, message in field_errors(exc).items()}
        else:
            errors = _row_errors(exc, tokens)
        general = errors.pop(FIELD, "") or errors.pop("", "")
        return _page(request, review, extraction, overlay=Overlay(posted, errors), head_error=general)
    # Then the button's action, on what is now saved.
    anchor, done = "", "Saved."
    try:
        if posted.get("status"):
            extracting.extraction_set_status(
                user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
                status=posted["status"],
            )  # fmt: skip
            done = "Saved and marked complete." if posted["status"] == "complete" else "Saved and reopened."
        elif posted.get("add_row"):
            anchor = _add_row(request, review, extraction, posted["add_row"], version)
            done = "Saved; row added."
        elif posted.get("remove_row"):
            anchor = _remove_row(request, review, extraction, posted["remove_row"], version)
            done = "Saved; row removed."
    except ServiceConflict as exc:
        extraction.refresh_from_db()
        return _page(request, review, extraction, alert=exc.message, status=CONFLICT)
    except ValidationError as exc:
        extraction.refresh_from_db()
        error = " ".join(field_errors(exc).values())
        if posted.get("status"):
            return _page(request, review, extraction, head_error=f"Saved, but not marked complete. {error}",
                         missing=extracting.missing_required(extraction))  # fmt: skip
        token = posted.get("add_row", "")
        return _page(request, review, extraction, overlay=Overlay(None, {f"add-{token}": error}))
    messages.success(request, done)
    return redirect(reverse("extraction:extract", args=[review.pk, extraction.pk]) + anchor)


# --- saving as the reviewer goes (htmx) -----------------------------------------------------------------------------


@dataclass
class Status:
    name: str
    text: str = ""
    invalid: bool = False
    saved: bool = False

    @property
    def dom_id(self) -> str:
        return dom_id(self.name)


def _answer(request: HttpRequest, statuses: list[Status], *, version: int | None, announce: str,
            status: int = 200) -> HttpResponse:  # fmt: skip
    """The statuses (the first is the request's target, the others out of band), the page's new version."""
    context = {"statuses": statuses, "version": version, "announce": announce}
    return render(request, "extraction/_extract_saved.html", context, status=status)


def _conflict(request: HttpRequest, review: Review, extraction: Extraction, message: str,
              changed: list[str]) -> HttpResponse:  # fmt: skip
    context = {
        "alert": message,
        "review": review,
        "extraction": extraction,
        "statuses": [Status(name, NOT_SAVED, invalid=True) for name in changed],
    }
    response = render(request, "extraction/_extract_conflict.html", context, status=CONFLICT)
    return reswap(retarget(response, "#extraction-alert"), "innerHTML")


@require_POST
def extract_save(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    """Save the one input the reviewer left (`changed`): a field, or the outcome-data row it belongs to."""
    review, extraction = _load(request, review_id, extraction_id)
    posted = request.POST
    changed = posted.get("changed", "")
    version = version_of(posted) or 0
    if changed.startswith(FIELD):
        key = changed[len(FIELD) :]
        try:
            saved = extracting.extraction_save(
                user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
                values={key: _raw(posted, changed)},
            )  # fmt: skip
        except ServiceConflict as exc:
            return _conflict(request, review, extraction, exc.message, [changed])
        except ValidationError as exc:
            message = " ".join(field_errors(exc).values())
            return _answer(request, [Status(changed, message, invalid=True)], version=None,
                           announce=f"Not saved: {message}", status=INVALID)  # fmt: skip
        return _answer(request, [Status(changed, "Saved", saved=True)], version=saved.version, announce="Saved.")
    match = DATA_NAME.match(changed)
    if match is None:
        return _answer(request, [Status(changed, "This input is not part of the page; reload it.", invalid=True)],
                       version=None, announce="Not saved.", status=INVALID)  # fmt: skip
    token = match["token"]
    names = [f"{DATA}{token}-{n}" for n in (*ALL_DATA_FIELDS, *ROW_INPUTS) if f"{DATA}{token}-{n}" in posted]
    try:
        row = _data_row(posted, token, _existing_rows(extraction))
    except RowGone:
        message = "This row was removed since you opened the page. Reload it to see the current rows."
        return _conflict(request, review, extraction, message, [changed])
    try:
        saved = extracting.outcome_data_save(
            user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version, rows=[row]
        )
    except ServiceConflict as exc:
        return _conflict(request, review, extraction, exc.message, [changed])
    except ValidationError as exc:
        errors = _row_errors(exc, [token])
        mine = errors.get(changed) or f"Not saved: {' '.join(errors.values())}"
        statuses = [Status(changed, mine, invalid=True)]
        statuses += [Status(n, m, invalid=True) for n, m in errors.items() if n in names and n != changed]
        return _answer(request, statuses, version=None, announce=f"Not saved: {mine}", status=INVALID)
    # The whole row was saved as the page shows it: its other inputs' old messages no longer hold.
    statuses = [Status(changed, "Saved", saved=True)] + [Status(name) for name in names if name != changed]
    return _answer(request, statuses, version=saved.version, announce="Saved.")


@require_POST
def extract_status(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    """Mark the extraction complete (every required field filled) or reopen it."""
    review, extraction = _load(request, review_id, extraction_id)
    wanted = request.POST.get("status", "")
    try:
        saved = extracting.extraction_set_status(
            user=request.user, review_id=review.pk, extraction_id=extraction.pk,
            version=version_of(request.POST) or 0, status=wanted,
        )  # fmt: skip
    except ServiceConflict as exc:
        if is_htmx(request):
            return _conflict(request, review, extraction, exc.message, [])
        messages.error(request, exc.message)
        return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)
    except ValidationError as exc:
        error = " ".join(field_errors(exc).values())
        if is_htmx(request):
            return _head(request, review, extraction, error=error, status=INVALID)
        return _page(request, review, extraction, head_error=error, missing=extracting.missing_required(extraction))
    if is_htmx(request):
        return _head(request, review, saved, version=saved.version)
    messages.success(request, "Marked complete." if saved.status == Extraction.Status.COMPLETE else "Reopened.")
    return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)


def _head(request: HttpRequest, review: Review, extraction: Extraction, *, error: str = "",
          version: int | None = None, status: int = 200) -> HttpResponse:  # fmt: skip
    context = {
        "review": review,
        "extraction": extraction,
        "editable": True,
        "head_error": error,
        "missing": extracting.missing_required(extraction) if error else [],
        "version": version,
        "oob_version": version is not None,
    }
    return render(request, "extraction/_extract_head.html", context, status=status)


def _add_row(request: HttpRequest, review: Review, extraction: Extraction, token: str, version: int) -> str:
    """Add an outcome-data row for a subgroup (e.g. one dose of a multi-arm trial); its anchor on the page."""
    match = ROW_TOKEN.match(token)
    if match is None or match["row"]:
        raise ValidationError({"subgroup": "Add the row under an outcome of the page."})
    subgroup = request.POST.get(f"subgroup-{token}", "").strip()
    if not subgroup:
        raise ValidationError({"subgroup": "Name the row, e.g. the dose (“0.5 mg/kg”) it gives the numbers of."})
    comparison, outcome = int(match["comparison"]), int(match["outcome"])
    if OutcomeData.objects.filter(
        extraction=extraction, comparison_id=comparison, outcome_id=outcome, subgroup=subgroup[:100]
    ).exists():
        raise ValidationError({"subgroup": f"This outcome already has a row “{subgroup}”."})
    extracting.outcome_data_save(
        user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
        rows=[{"comparison": comparison, "outcome": outcome, "subgroup": subgroup}],
    )  # fmt: skip
    return f"#cell-{token}"


def _remove_row(request: HttpRequest, review: Review, extraction: Extraction, token: str, version: int) -> str:
    """Remove one outcome-data row: every other row saved as it is, with `replace` (the service has no delete)."""
    match = ROW_TOKEN.match(token)
    existing = _existing_rows(extraction)
    row = existing.get(int(match["row"])) if match and match["row"] else None
    if row is None:
        raise ServiceConflict("This row was removed since you opened the page. Reload it to see the current rows.")
    extracting.outcome_data_save(
        user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
        rows=_rows_without(extraction, row.pk), replace=True,
    )  # fmt: skip
    return f"#cell-c{row.comparison_id}-o{row.outcome_id}"


def _cell(request: HttpRequest, review: Review, extraction: Extraction, token: str, *, error: str = "",
          raw: str = "", status: int = 200) -> HttpResponse:  # fmt: skip
    """One outcome's data table, re-rendered after a row was added or removed, with the page's new version."""
    extraction.refresh_from_db()
    context = _context(request, review, extraction, Overlay())
    cell = next((c for c in context["cells"] if c.token == token), None)
    if cell is None:
        return _conflict(request, review, extraction, "This outcome is no longer part of the review; reload.", [])
    cell.add_error, cell.add_raw = error, raw
    context |= {"cell": cell, "version": extraction.version, "oob_version": not error}
    return render(request, "extraction/_extract_cell.html", context, status=status)


@require_POST
def extract_row_add(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    review, extraction = _load(request, review_id, extraction_id)
    token = request.POST.get("add_row", "")
    try:
        anchor = _add_row(request, review, extraction, token, version_of(request.POST) or 0)
    except ServiceConflict as exc:
        if is_htmx(request):
            return _conflict(request, review, extraction, exc.message, [])
        messages.error(request, exc.message)
        return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)
    except ValidationError as exc:
        error = " ".join(field_errors(exc).values())
        if is_htmx(request):
            raw = request.POST.get(f"subgroup-{token}", "")
            return _cell(request, review, extraction, token, error=error, raw=raw, status=INVALID)
        messages.error(request, error)
        return redirect(reverse("extraction:extract", args=[review.pk, extraction.pk]) + f"#cell-{token}")
    if is_htmx(request):
        return _cell(request, review, extraction, token)
    messages.success(request, "Row added.")
    return redirect(reverse("extraction:extract", args=[review.pk, extraction.pk]) + anchor)


@require_POST
def extract_row_remove(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    review, extraction = _load(request, review_id, extraction_id)
    token = request.POST.get("remove_row", "")
    try:
        anchor = _remove_row(request, review, extraction, token, version_of(request.POST) or 0)
    except ServiceConflict as exc:
        if is_htmx(request):
            return _conflict(request, review, extraction, exc.message, [])
        messages.error(request, exc.message)
        return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)
    if is_htmx(request):
        return _cell(request, review, extraction, anchor.removeprefix("#cell-"))
    messages.success(request, "Row removed.")
    return redirect(reverse("extraction:extract", args=[review.pk, extraction.pk]) + anchor)


@require_POST
def extract_upgrade(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    """Move the extraction to the published form version (values of fields that remain carry over)."""
    review, extraction = _load(request, review_id, extraction_id)
    try:
        moved = extracting.extraction_upgrade(user=request.user, review_id=review.pk, extraction_id=extraction.pk)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)
    messages.success(
        request,
        f"Moved to version {moved.form.number}. Values of the fields that remain came along; the version "
        f"{extraction.form.number} extraction stays readable.",
    )
    return redirect("extraction:extract", review_id=review.pk, extraction_id=moved.pk)
