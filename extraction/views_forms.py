"""Form builder pages: the review's extraction forms and their versions, and the builder of one version.

A draft is edited piece by piece: each section or field form posts on its own and, with htmx, the piece is
swapped in place, the draft's new `version` (optimistic concurrency) and a notice coming out of band. A stale
version or a form that is no longer a draft is refused (ServiceConflict): the message and a Reload link, 409
for htmx. Without JavaScript each form posts and redirects back to the builder (or renders it again with the
messages at the field). A published or retired version is shown read-only, as extractors will see it."""

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ServiceConflict
from extraction import selectors
from extraction.default_form import DEFAULT_FORM_NAME, DEFAULT_SECTIONS
from extraction.forms_builder import (
    FieldForm,
    FormCreateForm,
    MoveForm,
    ReorderForm,
    SectionForm,
    field_initial,
    focus_first_error,
)
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.services import forms as services
from reviews.forms import add_service_errors
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import review_get_for_user

Role = Membership.Role
Status = ExtractionForm.Status
# Arms shown in the preview of a per-arm field (a study's own arms replace them when extracting).
PREVIEW_ARMS = ("Intervention arm", "Control arm")


@dataclass
class FieldRow:
    field: FormField
    form: FieldForm | None = None  # while the field is being edited


@dataclass
class SectionRow:
    section: FormSection
    fields: list[FieldRow] = dc_field(default_factory=list)
    form: SectionForm | None = None  # while the section is being renamed
    add_form: FieldForm | None = None  # the "add a field" form of the section

    @property
    def add_open(self) -> bool:
        return self.add_form is not None and self.add_form.is_bound


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _is_editor(review: Review) -> bool:
    return role_at_least(review.my_role, Role.EDITOR)


def _version(request: HttpRequest) -> int | None:
    raw = request.POST.get("version", "")
    return int(raw) if raw.isdigit() else None


def _builder_url(review: Review, xform: ExtractionForm, anchor: str = "") -> str:
    url = reverse("extraction:form_builder", args=[review.pk, xform.pk])
    return f"{url}#{anchor}" if anchor else url


def _add_form(section: FormSection, data: Any = None, taken: frozenset[str] = frozenset()) -> FieldForm:
    return FieldForm(data, prefix=f"add-{section.pk}", taken_keys=taken)


def _edit_form(field: FormField, data: Any = None, taken: frozenset[str] = frozenset()) -> FieldForm:
    form = FieldForm(data, prefix=f"field-{field.pk}", initial=field_initial(field), taken_keys=taken, editing=True)
    form.fields["label"].widget.attrs["autofocus"] = True
    return form


def _section_form(section: FormSection, data: Any = None) -> SectionForm:
    initial = {"title": section.title, "help_text": section.help_text}
    form = SectionForm(data, prefix=f"section-{section.pk}", initial=initial)
    form.fields["title"].widget.attrs["autofocus"] = True
    return form


def _taken_keys(xform: ExtractionForm, but: FormField | None = None) -> frozenset[str]:
    return frozenset(f.key for f in xform.fields.all() if but is None or f.pk != but.pk)


def _rows(
    xform: ExtractionForm,
    *,
    edit_field: int | None = None,
    edit_section: int | None = None,
    bound: dict[str, Any] | None = None,
) -> list[SectionRow]:
    """The form's sections and fields for the builder, with the form of the piece being edited (`bound` holds
    a submitted form that failed, by "field-<id>", "section-<id>" or "add-<section id>")."""
    bound = bound or {}
    rows = []
    for view in selectors.form_sections(xform):
        section = view.section
        fields = []
        for f in view.fields:
            form = bound.get(f"field-{f.pk}") or (_edit_form(f) if f.pk == edit_field else None)
            fields.append(FieldRow(f, form))
        section_form = bound.get(f"section-{section.pk}") or (
            _section_form(section) if section.pk == edit_section else None
        )
        rows.append(SectionRow(section, fields, section_form, bound.get(f"add-{section.pk}") or _add_form(section)))
    return rows


def _get_int(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    return int(raw) if raw.isdigit() else None


def _section_of(xform: ExtractionForm, section_id: int) -> FormSection:
    for section in xform.sections.all():
        if section.pk == section_id:
            return section
    raise Http404("No such section in this form.")


def _field_of(xform: ExtractionForm, field_id: int) -> FormField:
    for f in xform.fields.all():
        if f.pk == field_id:
            return f
    raise Http404("No such field in this form.")


def _section_row(xform: ExtractionForm, section_id: int) -> SectionRow:
    for row in _rows(xform):
        if row.section.pk == section_id:
            return row
    raise Http404("No such section in this form.")


def _context(review: Review, xform: ExtractionForm, **extra: Any) -> dict[str, Any]:
    return {"review": review, "extraction_form": xform, "preview_arms": PREVIEW_ARMS, **extra}


# --- the list of forms ---------------------------------------------------------------------------------------


def _forms_page(request: HttpRequest, review: Review, create_form: FormCreateForm) -> HttpResponse:
    versions = list(selectors.form_list(review=review))
    groups: dict[str, list[ExtractionForm]] = {}
    for version in versions:
        groups.setdefault(version.name, []).append(version)
    with_draft = {v.name for v in versions if v.status == Status.DRAFT}
    context = {
        "review": review,
        "groups": list(groups.items()),
        "with_draft": with_draft,
        "has_published": any(v.status == Status.PUBLISHED for v in versions),
        "can_edit": _is_editor(review),
        "create_form": create_form,
        "default_name": DEFAULT_FORM_NAME,
        "default_sections": [s["title"] for s in DEFAULT_SECTIONS],
    }
    return render(request, "extraction/forms.html", context)


@require_GET
def forms(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return _forms_page(request, review, FormCreateForm())


@require_POST
def form_create(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    create_form = FormCreateForm(request.POST)
    if create_form.is_valid():
        try:
            xform = services.form_create(
                user=request.user,
                review_id=review.pk,
                name=create_form.cleaned_data["name"],
                from_default=create_form.cleaned_data["start"] == "default",
            )
        except ValidationError as exc:
            add_service_errors(create_form, exc)
        else:
            messages.success(request, f"“{xform.name}” is a draft: add its sections and fields, then publish it.")
            return redirect("extraction:form_builder", review_id=review.pk, form_id=xform.pk)
    focus_first_error(create_form)
    return _forms_page(request, review, create_form)


@require_POST
def form_create_default(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    xform = services.form_create_default(review=review, user=request.user)
    if xform.status == Status.PUBLISHED:
        messages.success(
            request, f"“{xform.name}” is published: extraction can start. Make a new version of it to change it."
        )
    else:  # a form of that name was made by hand meanwhile: the service returns it as it is
        messages.info(request, f"This review already has a form “{xform.name}”.")
    return redirect("extraction:form_builder", review_id=review.pk, form_id=xform.pk)


@require_POST
def form_new_draft(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    draft = services.form_new_draft(user=request.user, review_id=review.pk, form_id=form_id)
    messages.success(
        request,
        f"Version {draft.number} of “{draft.name}” is a draft: change it, then publish it. Extractions made with "
        "earlier versions stay as they are.",
    )
    return redirect("extraction:form_builder", review_id=review.pk, form_id=draft.pk)


@require_POST
def form_publish(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    xform = selectors.form_get(review=review, form_id=form_id)
    try:
        xform = services.form_publish(
            user=request.user, review_id=review.pk, form_id=xform.pk, version=_version(request)
        )
    except ServiceConflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Version {xform.number} of “{xform.name}” is published: new extractions use it."
            + (" The version before is retired; its extractions stay on it." if xform.number > 1 else ""),
        )
    if request.POST.get("next") == "list":
        return redirect("extraction:forms", review_id=review.pk)
    return redirect("extraction:form_builder", review_id=review.pk, form_id=xform.pk)


@require_POST
def form_delete(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    xform = selectors.form_get(review=review, form_id=form_id)
    try:
        services.form_delete(user=request.user, review_id=review.pk, form_id=xform.pk)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect("extraction:form_builder", review_id=review.pk, form_id=xform.pk)
    messages.success(request, f"Deleted the draft of “{xform.name}” (version {xform.number}).")
    return redirect("extraction:forms", review_id=review.pk)


# --- the builder ---------------------------------------------------------------------------------------------


def _builder_page(
    request: HttpRequest,
    review: Review,
    xform: ExtractionForm,
    *,
    bound: dict[str, Any] | None = None,
    new_section_form: SectionForm | None = None,
) -> HttpResponse:
    can_edit = _is_editor(review)
    editing = can_edit and xform.editable and not request.GET.get("preview")
    rows = _rows(
        xform,
        edit_field=_get_int(request, "field") if editing else None,
        edit_section=_get_int(request, "section") if editing else None,
        bound=bound,
    )
    draft = None
    if can_edit and not xform.editable:
        draft = ExtractionForm.objects.filter(review=review, name=xform.name, status=Status.DRAFT).first()
    context = _context(
        review, xform, sections=rows, can_edit=can_edit, editing=editing, draft=draft,
        field_count=sum(len(row.fields) for row in rows),
        new_section_form=new_section_form or SectionForm(prefix="new-section"),
    )  # fmt: skip
    return render(request, "extraction/form_builder.html", context)


@require_GET
def form_builder(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    xform = selectors.form_get(review=review, form_id=form_id)
    return _builder_page(request, review, xform)


def _saved(
    request: HttpRequest,
    review: Review,
    xform: ExtractionForm,
    template: str,
    context: dict[str, Any],
    *,
    notice: str,
    anchor: str = "",
) -> HttpResponse:
    """After a write: for htmx, the piece with the draft's new version and the notice out of band; otherwise
    back to the builder at the piece."""
    if not _htmx(request):
        messages.success(request, notice)
        return redirect(_builder_url(review, xform, anchor))
    xform.refresh_from_db(fields=["version"])
    return render(request, template, _context(review, xform, editing=True, oob=True, notice=notice, **context))


def _refused(
    request: HttpRequest, review: Review, xform: ExtractionForm, message: str, status: int = 409
) -> HttpResponse:
    """A write the service refused as a whole (stale version, not a draft, a bad order): the message where the
    builder shows messages, with a link to reload the draft."""
    if not _htmx(request):
        messages.error(request, message)
        return redirect(_builder_url(review, xform))
    response = render(
        request, "extraction/_builder_refused.html", {"message": message, "reload_url": _builder_url(review, xform)},
        status=status,
    )  # fmt: skip
    response["HX-Retarget"] = "#builder-messages"
    response["HX-Reswap"] = "innerHTML"
    return response


def _retarget(response: HttpResponse, target: str) -> HttpResponse:
    response["HX-Retarget"] = target
    response["HX-Reswap"] = "outerHTML"
    return response


def _editor_and_form(request: HttpRequest, review_id: int, form_id: int) -> tuple[Review, ExtractionForm]:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    return review, selectors.form_get(review=review, form_id=form_id)


@require_POST
def section_add(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    review, xform = _editor_and_form(request, review_id, form_id)
    form = SectionForm(request.POST, prefix="new-section")
    if form.is_valid():
        try:
            section = services.section_add(
                user=request.user, review_id=review.pk, form_id=xform.pk, version=_version(request),
                **form.cleaned_data,
            )  # fmt: skip
        except ServiceConflict as exc:
            return _refused(request, review, xform, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            row = SectionRow(section, [], None, _add_form(section))
            return _saved(
                request, review, xform, "extraction/_builder_section_added.html",
                {"section_row": row, "new_section_form": SectionForm(prefix="new-section")},
                notice=f"Added the section “{section.title}”.", anchor=f"section-{section.pk}",
            )  # fmt: skip
    focus_first_error(form)
    if _htmx(request):
        response = render(
            request, "extraction/_builder_section_add.html", _context(review, xform, new_section_form=form)
        )
        return _retarget(response, "#section-add")
    return _builder_page(request, review, xform, new_section_form=form)


@require_http_methods(["GET", "POST"])
def section(request: HttpRequest, review_id: int, form_id: int, section_id: int) -> HttpResponse:
    """GET (htmx): the section's heading, as a form with ?edit; POST: rename it or change its help text."""
    review, xform = _editor_and_form(request, review_id, form_id)
    found = _section_of(xform, section_id)
    if request.method == "GET":
        if not _htmx(request):
            query = f"?section={found.pk}" if "edit" in request.GET else ""
            return HttpResponseRedirect(f"{_builder_url(review, xform)}{query}#section-{found.pk}")
        row = _section_row(xform, found.pk)
        row.form = _section_form(found) if "edit" in request.GET else None
        return render(
            request, "extraction/_builder_section_head.html", _context(review, xform, section_row=row, editing=True)
        )
    form = _section_form(found, request.POST)
    if form.is_valid():
        try:
            updated = services.section_update(
                user=request.user, review_id=review.pk, form_id=xform.pk, section_id=found.pk,
                version=_version(request), **form.cleaned_data,
            )  # fmt: skip
        except ServiceConflict as exc:
            return _refused(request, review, xform, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            row = _section_row(xform, found.pk)
            row.section = updated
            return _saved(
                request, review, xform, "extraction/_builder_section_head.html", {"section_row": row},
                notice=f"Saved the section “{updated.title}”.", anchor=f"section-{found.pk}",
            )  # fmt: skip
    focus_first_error(form)
    if _htmx(request):
        row = _section_row(xform, found.pk)
        row.form = form
        return render(
            request, "extraction/_builder_section_head.html", _context(review, xform, section_row=row, editing=True)
        )
    return _builder_page(request, review, xform, bound={f"section-{found.pk}": form})


@require_POST
def section_delete(request: HttpRequest, review_id: int, form_id: int, section_id: int) -> HttpResponse:
    review, xform = _editor_and_form(request, review_id, form_id)
    found = _section_of(xform, section_id)
    try:
        services.section_delete(
            user=request.user, review_id=review.pk, form_id=xform.pk, section_id=found.pk, version=_version(request)
        )
    except ServiceConflict as exc:
        return _refused(request, review, xform, exc.message)
    return _saved(request, review, xform, "extraction/_builder_oob.html", {},
                  notice=f"Deleted the section “{found.title}” and its fields.")  # fmt: skip


@require_POST
def field_add(request: HttpRequest, review_id: int, form_id: int, section_id: int) -> HttpResponse:
    review, xform = _editor_and_form(request, review_id, form_id)
    found = _section_of(xform, section_id)
    form = _add_form(found, request.POST, _taken_keys(xform))
    if form.is_valid():
        try:
            added = services.field_add(
                user=request.user, review_id=review.pk, form_id=xform.pk, section_id=found.pk,
                version=_version(request), **form.service_fields(),
            )  # fmt: skip
        except ServiceConflict as exc:
            return _refused(request, review, xform, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            fresh = _add_form(found)
            fresh.fields["label"].widget.attrs["autofocus"] = True
            row = SectionRow(found, [], None, fresh)
            return _saved(
                request, review, xform, "extraction/_builder_field_added.html",
                {"row": FieldRow(added), "section_row": row, "add_open": True},
                notice=f"Added the field “{added.label}” to “{found.title}”.", anchor=f"field-{added.pk}",
            )  # fmt: skip
    focus_first_error(form)
    if _htmx(request):
        row = SectionRow(found, [], None, form)
        response = render(
            request, "extraction/_builder_field_add.html", _context(review, xform, section_row=row, editing=True)
        )
        return _retarget(response, f"#field-add-{found.pk}")
    return _builder_page(request, review, xform, bound={f"add-{found.pk}": form})


@require_http_methods(["GET", "POST"])
def field(request: HttpRequest, review_id: int, form_id: int, field_id: int) -> HttpResponse:
    """GET (htmx): the field's row, as a form with ?edit; POST: save it."""
    review, xform = _editor_and_form(request, review_id, form_id)
    found = _field_of(xform, field_id)
    if request.method == "GET":
        if not _htmx(request):
            query = f"?field={found.pk}" if "edit" in request.GET else ""
            return HttpResponseRedirect(f"{_builder_url(review, xform)}{query}#field-{found.pk}")
        row = FieldRow(found, _edit_form(found) if "edit" in request.GET else None)
        return render(
            request, "extraction/_builder_field.html", _context(review, xform, row=row, editing=True, focus=True)
        )
    form = _edit_form(found, request.POST, _taken_keys(xform, but=found))
    if form.is_valid():
        try:
            updated = services.field_update(
                user=request.user, review_id=review.pk, form_id=xform.pk, field_id=found.pk,
                version=_version(request), **form.service_fields(),
            )  # fmt: skip
        except ServiceConflict as exc:
            return _refused(request, review, xform, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _saved(
                request, review, xform, "extraction/_builder_field.html", {"row": FieldRow(updated), "focus": True},
                notice=f"Saved the field “{updated.label}”.", anchor=f"field-{found.pk}",
            )  # fmt: skip
    focus_first_error(form)
    if _htmx(request):
        return render(
            request, "extraction/_builder_field.html", _context(review, xform, row=FieldRow(found, form), editing=True)
        )
    return _builder_page(request, review, xform, bound={f"field-{found.pk}": form})


@require_POST
def field_delete(request: HttpRequest, review_id: int, form_id: int, field_id: int) -> HttpResponse:
    review, xform = _editor_and_form(request, review_id, form_id)
    found = _field_of(xform, field_id)
    try:
        services.field_delete(
            user=request.user, review_id=review.pk, form_id=xform.pk, field_id=found.pk, version=_version(request)
        )
    except ServiceConflict as exc:
        return _refused(request, review, xform, exc.message)
    return _saved(request, review, xform, "extraction/_builder_oob.html", {},
                  notice=f"Deleted the field “{found.label}”.")  # fmt: skip


def _reordered(
    request: HttpRequest, review: Review, xform: ExtractionForm, order: list[dict[str, Any]], *, anchor: str = "",
    moved: str = "",
) -> HttpResponse:  # fmt: skip
    try:
        services.form_reorder(
            user=request.user, review_id=review.pk, form_id=xform.pk, sections=order, version=_version(request)
        )
    except ServiceConflict as exc:
        return _refused(request, review, xform, exc.message)
    except ValidationError as exc:
        return _refused(request, review, xform, " ".join(exc.messages), status=400)
    # The script announces the move itself: no notice for htmx.
    notice = "" if _htmx(request) else moved or "Order saved."
    return _saved(request, review, xform, "extraction/_builder_oob.html", {}, notice=notice, anchor=anchor)


@require_POST
def form_reorder(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    """The whole order of sections and fields, as the builder's script posts it after a drag or a key."""
    review, xform = _editor_and_form(request, review_id, form_id)
    form = ReorderForm(request.POST)
    if not form.is_valid():
        return _refused(request, review, xform, " ".join(str(m) for ms in form.errors.values() for m in ms), status=400)
    return _reordered(request, review, xform, form.cleaned_data["order"])


@require_POST
def form_move(request: HttpRequest, review_id: int, form_id: int) -> HttpResponse:
    """A section or field one step up or down (the buttons, without JavaScript)."""
    review, xform = _editor_and_form(request, review_id, form_id)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _refused(request, review, xform, "Say what to move, and up or down.", status=400)
    kind, item, direction = form.cleaned_data["kind"], form.cleaned_data["id"], form.cleaned_data["direction"]
    if kind == "section":
        moved = f"Moved the section “{_section_of(xform, item).title}” {direction}."
    else:
        moved = f"Moved the field “{_field_of(xform, item).label}” {direction}."
    return _reordered(
        request, review, xform, form.apply(selectors.form_order(xform)), anchor=f"{kind}-{item}", moved=moved
    )
