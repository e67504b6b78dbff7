"""Study pages: the list of studies (making them, starting and assigning extractions, the consensus), a study's
own page (its label and design, reports, arms, extractions) and the review's extraction settings. Thin: parse,
call a service or selector, render. The other extraction screens are in views_outcomes.py (outcomes and
comparisons), views_extraction.py (the extraction page) and views_consensus.py (discrepancies)."""

from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from extraction import selectors
from extraction.forms import ArmForm, AssignForm, ReportAddForm, SettingsForm, StudyCreateForm, StudyForm
from extraction.models import Arm, Extraction, Study, StudyReport
from extraction.services import extracting
from extraction.services import studies as study_services
from extraction.views_common import is_editor, is_owner, messages_of
from reviews.forms import add_service_errors
from reviews.models import Membership, Record, Review
from reviews.selectors import membership_list, review_get_for_user

Role = Membership.Role


def _record_text(record: Record) -> str:
    first = str(record.authors[0]) if record.authors else ""
    who = " ".join(part for part in (first, str(record.year or "")) if part)
    return f"#{record.pk} · {who + ' · ' if who else ''}{Truncator(record.title or '(no title)').chars(90)}"


def _included(review: Review) -> list[tuple[int, str]]:
    return [(record.pk, _record_text(record)) for record in selectors.included_records_without_study(review=review)]


def _latest_per_reviewer(extractions: list[Extraction]) -> list[Extraction]:
    """Each reviewer's extraction with the newest form version (an upgraded one leaves the old behind)."""
    latest: dict[int | None, Extraction] = {}
    for extraction in extractions:
        kept = latest.get(extraction.reviewer_id)
        if kept is None or extraction.form.number > kept.form.number:
            latest[extraction.reviewer_id] = extraction
    return sorted(latest.values(), key=lambda e: e.reviewer.username if e.reviewer else "")


@dataclass
class StudyRow:
    """A study as this member may see it: under blinding a reviewer sees only their own extraction and how many
    extractors the study has, never the others' progress."""

    study: Study
    primary: StudyReport | None
    extractions: list[Extraction]
    mine: Extraction | None
    extractor_count: int
    can_start: bool
    extractor_ids: set[int] = field(default_factory=set)


def _study_rows(review: Review, user: User, found: QuerySet[Study] | list[Study], needed: int) -> list[StudyRow]:
    everything = selectors.sees_all(review)
    rows = []
    for study in found:
        latest = _latest_per_reviewer(list(getattr(study, "reviewer_extractions", [])))
        mine = next((e for e in latest if e.reviewer_id == user.pk), None)
        reports = list(study.reports.all())
        rows.append(
            StudyRow(
                study=study,
                primary=next((r for r in reports if r.primary), reports[0] if reports else None),
                extractions=latest if everything else ([mine] if mine else []),
                mine=mine,
                extractor_count=len(latest),
                can_start=mine is None and len(latest) < needed,
                extractor_ids={e.reviewer_id for e in latest if e.reviewer_id},
            )
        )
    return rows


def _members(review: Review) -> list[tuple[int, str]]:
    return [
        (m.user_id, f"{m.user.get_username()} ({m.get_role_display().lower()})") for m in membership_list(review=review)
    ]


def studies(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return _studies_page(request, review)


def _studies_page(
    request: HttpRequest, review: Review, create_form: StudyCreateForm | None = None, status: int = 200
) -> HttpResponse:
    needed = study_services.settings_for(review).extractors_per_study
    rows = _study_rows(review, cast(User, request.user), selectors.study_list(review=review), needed)
    context: dict[str, Any] = {
        "review": review,
        "rows": rows,
        "needed": needed,
        "editor": is_editor(review),
        "sees_all": selectors.sees_all(review),
    }
    if is_editor(review):
        included = _included(review)
        context |= {
            "included_count": len(included),
            "create_form": create_form or StudyCreateForm(included=included),
            "members": _members(review),
            "open_total": sum(row.study.open_discrepancies for row in rows),  # type: ignore[attr-defined]
        }
    return render(request, "extraction/studies.html", context, status=status)


@require_POST
def study_create(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    form = StudyCreateForm(request.POST, included=_included(review))
    if form.is_valid():
        try:
            made = study_services.study_create(
                user=request.user,
                review_id=review.pk,
                label=form.cleaned_data["label"],
                design=form.cleaned_data["design"],
                record_ids=form.all_record_ids(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Study “{made.label}” created.")
            return redirect("extraction:study", review_id=review.pk, study_id=made.pk)
    return _studies_page(request, review, create_form=form)


@require_POST
def studies_from_included(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    try:
        made = study_services.studies_create_from_included(user=request.user, review_id=review.pk)
    except ValidationError as exc:
        messages.error(request, " ".join(messages_of(exc)))
    else:
        if made:
            messages.success(
                request,
                f"{len(made)} stud{'y' if len(made) == 1 else 'ies'} created from included records: "
                f"{', '.join(s.label for s in made)}. Check their labels and designs, and link the reports of one "
                "trial to one study.",
            )
        else:
            messages.info(request, "Every included record already reports a study.")
    return redirect("extraction:studies", review_id=review.pk)


@require_POST
def extract_start(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    """Start or continue my extraction of a study; an editor assigns another member with `reviewer`."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    back = request.POST.get("next") == "study"
    reviewer_id: int | None = None
    if "reviewer" in request.POST:
        form = AssignForm(request.POST, members=_members(review))
        if not form.is_valid():
            messages.error(request, "Choose a member of the review to assign.")
            return _back(review, study_id, back)
        reviewer_id = form.cleaned_data["reviewer"]
    try:
        extraction = extracting.extraction_start(
            user=request.user, review_id=review.pk, study_id=study_id, reviewer_id=reviewer_id
        )
    except (ServiceConflict, ValidationError) as exc:
        messages.error(request, exc.message if isinstance(exc, ServiceConflict) else " ".join(messages_of(exc)))
        return _back(review, study_id, back)
    if extraction.reviewer_id != request.user.pk:
        who = extraction.reviewer.get_username() if extraction.reviewer else "?"
        messages.success(request, f"{who} extracts “{extraction.study.label}”.")
        return _back(review, study_id, back)
    return redirect("extraction:extract", review_id=review.pk, extraction_id=extraction.pk)


def _back(review: Review, study_id: int, to_study: bool) -> HttpResponse:
    if to_study:
        return redirect("extraction:study", review_id=review.pk, study_id=study_id)
    return redirect(reverse("extraction:studies", args=[review.pk]) + f"#study-{study_id}")


@require_POST
def consensus_start(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    """The study's consensus extraction (editor), opened in the extraction page."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    consensus = extracting.consensus_start(user=request.user, review_id=review.pk, study_id=study_id)
    return redirect("extraction:extract", review_id=review.pk, extraction_id=consensus.pk)


# --- one study ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def study(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    """A study's page; an editor's POST changes its label, design and notes (with the version they loaded)."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    found = selectors.study_get(review=review, study_id=study_id)
    if request.method != "POST":
        return _study_page(request, review, found)
    if not is_editor(review):
        raise PermissionDenied("Changing a study needs the editor role in this review.")
    form = StudyForm(request.POST)
    status = 200
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            study_services.study_update(
                user=request.user, review_id=review.pk, study_id=found.pk, version=version, **data
            )
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Study saved.")
            return redirect("extraction:study", review_id=review.pk, study_id=found.pk)
    return _study_page(request, review, found, study_form=form, status=status)


def _study_page(
    request: HttpRequest,
    review: Review,
    found: Study,
    *,
    study_form: StudyForm | None = None,
    arm_forms: dict[int, ArmForm] | None = None,
    new_arm_form: ArmForm | None = None,
    report_form: ReportAddForm | None = None,
    move: tuple[Record, Study] | None = None,
    status: int = 200,
) -> HttpResponse:
    editor = is_editor(review)
    needed = study_services.settings_for(review).extractors_per_study
    (row,) = _study_rows(review, cast(User, request.user), [found], needed)
    arms = list(found.arms.all())
    context: dict[str, Any] = {
        "review": review,
        "study": found,
        "row": row,
        "reports": list(found.reports.all()),
        "arms": arms,
        "editor": editor,
        "needed": needed,
        "extractions": list(selectors.extraction_list(review=review, user=request.user, study=found)),
    }
    if editor:
        arm_forms = arm_forms or {}
        included = _included(review)
        context |= {
            "study_form": study_form
            or StudyForm(
                initial={"version": found.version, "label": found.label, "design": found.design, "notes": found.notes}
            ),
            "arm_rows": [
                (
                    arm,
                    arm_forms.get(arm.pk)
                    or ArmForm(prefix=f"arm{arm.pk}", initial=ArmForm.initial_of(arm), html_form=f"arm-form-{arm.pk}"),
                )
                for arm in arms
            ],
            "new_arm_form": new_arm_form or ArmForm(prefix="arm-new", html_form="arm-form-new"),
            "report_form": report_form or ReportAddForm(included=included),
            "move": move,
            "members": _members(review),
        }
    return render(request, "extraction/study.html", context, status=status)


@require_POST
def study_delete(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.study_get(review=review, study_id=study_id)
    try:
        study_services.study_delete(user=request.user, review_id=review.pk, study_id=found.pk)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect("extraction:study", review_id=review.pk, study_id=found.pk)
    messages.success(request, f"Study “{found.label}” deleted; its reports are unlinked records again.")
    return redirect("extraction:studies", review_id=review.pk)


@require_POST
def report_add(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    """Link a record to the study. A record that reports another study moves here only once the editor confirms
    ("Move here"): the service moves it and the history keeps where it was."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.study_get(review=review, study_id=study_id)
    form = ReportAddForm(request.POST, included=_included(review))
    if not form.is_valid():
        return _study_page(request, review, found, report_form=form)
    record_id = form.cleaned_data["record_id"]
    elsewhere = (
        StudyReport.objects.filter(review=review, record_id=record_id)
        .exclude(study=found)
        .select_related("record", "study")
        .first()
    )
    if elsewhere is not None and not form.cleaned_data.get("move"):
        return _study_page(request, review, found, report_form=form, move=(elsewhere.record, elsewhere.study))
    try:
        study_services.report_add(
            user=request.user,
            review_id=review.pk,
            study_id=found.pk,
            record_id=record_id,
            primary=form.cleaned_data["primary"],
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _study_page(request, review, found, report_form=form)
    moved = f" (moved from “{elsewhere.study.label}”)" if elsewhere is not None else ""
    messages.success(request, f"Record #{record_id} is a report of “{found.label}”{moved}.")
    return redirect(reverse("extraction:study", args=[review.pk, found.pk]) + "#reports")


@require_POST
def report_primary(request: HttpRequest, review_id: int, study_id: int, record_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    study_services.report_set_primary(user=request.user, review_id=review.pk, study_id=study_id, record_id=record_id)
    messages.success(request, f"Record #{record_id} is the primary report.")
    return redirect(reverse("extraction:study", args=[review.pk, study_id]) + "#reports")


@require_POST
def report_remove(request: HttpRequest, review_id: int, study_id: int, record_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    study_services.report_remove(user=request.user, review_id=review.pk, study_id=study_id, record_id=record_id)
    messages.success(request, f"Record #{record_id} no longer reports this study.")
    return redirect(reverse("extraction:study", args=[review.pk, study_id]) + "#reports")


@require_POST
def arm_add(request: HttpRequest, review_id: int, study_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.study_get(review=review, study_id=study_id)
    form = ArmForm(request.POST, prefix="arm-new", html_form="arm-form-new")
    if form.is_valid():
        try:
            arm = study_services.arm_create(
                user=request.user, review_id=review.pk, study_id=found.pk, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Arm “{arm.name}” added.")
            return redirect(reverse("extraction:study", args=[review.pk, found.pk]) + "#arms")
    return _study_page(request, review, found, new_arm_form=form)


@require_POST
def arm_edit(request: HttpRequest, review_id: int, study_id: int, arm_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.study_get(review=review, study_id=study_id)
    # The arm before the form: an arm of another study (or review) is a 404 whatever was posted.
    get_object_or_404(Arm, study=found, pk=arm_id)
    form = ArmForm(request.POST, prefix=f"arm{arm_id}", html_form=f"arm-form-{arm_id}")
    if form.is_valid():
        try:
            arm = study_services.arm_update(
                user=request.user, review_id=review.pk, study_id=found.pk, arm_id=arm_id, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Arm “{arm.name}” saved.")
            return redirect(reverse("extraction:study", args=[review.pk, found.pk]) + "#arms")
    return _study_page(request, review, found, arm_forms={arm_id: form})


@require_POST
def arm_delete(request: HttpRequest, review_id: int, study_id: int, arm_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    study_services.arm_delete(user=request.user, review_id=review.pk, study_id=study_id, arm_id=arm_id)
    messages.success(request, "Arm deleted, with its values in the extractions.")
    return redirect(reverse("extraction:study", args=[review.pk, study_id]) + "#arms")


# --- settings -----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    current = study_services.settings_for(review)
    form = SettingsForm(request.POST or None, instance=current, initial={"version": current.version})
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            study_services.settings_update(user=request.user, review_id=review.pk, version=version, **data)
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Extraction settings saved.")
            return redirect("extraction:settings", review_id=review.pk)
    context = {"review": review, "form": form, "owner": is_owner(review)}
    return render(request, "extraction/settings.html", context, status=status)
