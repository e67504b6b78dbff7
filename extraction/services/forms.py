"""Extraction form writes (owner or editor). A draft form is edited freely; publishing it makes it the version
new extractions use and retires the one before, whose extractions stay attached to it (readable as they
were). Changing a published form means making a new draft from it: the same sections and fields, keys kept,
so values carry over when an extraction moves to the new version."""

import re
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from extraction.default_form import DEFAULT_FORM_NAME, DEFAULT_SECTIONS
from extraction.models import ExtractionForm, FormField, FormSection
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

AnyUser = User | AnonymousUser
Role = Membership.Role
Status = ExtractionForm.Status
FIELD_FIELDS = ("label", "key", "type", "required", "help_text", "unit", "choices", "per_arm", "section")
SECTION_FIELDS = ("title", "help_text")
CHOICE_TYPES = (FormField.Type.SINGLE_CHOICE, FormField.Type.MULTIPLE_CHOICE)


def _form(review: Review, form_id: int | str, lock: bool = True) -> ExtractionForm:
    forms = ExtractionForm.objects.filter(review=review)
    try:
        return (forms.select_for_update() if lock else forms).get(pk=int(form_id))
    except (ExtractionForm.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such extraction form in this review.") from exc


def _draft(review: Review, form_id: int | str, version: int | None) -> ExtractionForm:
    form = _form(review, form_id)
    if not form.editable:
        raise ServiceConflict(
            f"Version {form.number} of “{form.name}” is {form.get_status_display().lower()}: make a new draft from "
            "it to change it (extractions made with it stay as they are)."
        )
    if version is not None and int(version) != form.version:
        raise ServiceConflict(
            f"Someone else changed this draft since you opened it (your version {version}, now {form.version}). "
            "Reload it and make your change again."
        )
    return form


def _touch(form: ExtractionForm) -> None:
    form.version += 1
    form.save(update_fields=["version"])


def slug_key(label: str) -> str:
    key = re.sub(r"[^a-z0-9]+", "_", label.casefold()).strip("_")[:60]
    return key or "field"


def _unique_key(form: ExtractionForm, wanted: str, exclude_id: int | None = None) -> str:
    others = FormField.objects.filter(form=form)
    if exclude_id is not None:
        others = others.exclude(pk=exclude_id)
    taken = set(others.values_list("key", flat=True))
    key, n = wanted, 2
    while key in taken:
        key = f"{wanted[:56]}_{n}"
        n += 1
    return key


def _build(form: ExtractionForm, sections: list[dict[str, Any]]) -> None:
    for s_pos, section_spec in enumerate(sections, start=1):
        section = FormSection.objects.create(
            form=form, position=s_pos, title=section_spec["title"], help_text=section_spec.get("help_text", "")
        )
        FormField.objects.bulk_create(
            FormField(
                form=form,
                section=section,
                position=f_pos,
                key=spec["key"],
                label=spec["label"],
                type=spec["type"],
                required=spec.get("required", False),
                help_text=spec.get("help_text", ""),
                unit=spec.get("unit", ""),
                choices=list(spec.get("choices", [])),
                per_arm=spec.get("per_arm", False),
            )  # fmt: skip
            for f_pos, spec in enumerate(section_spec["fields"], start=1)
        )


def form_structure(form: ExtractionForm) -> list[dict[str, Any]]:
    """The form's sections and fields as plain data (for copying it and for the JSON export)."""
    fields_by_section: dict[int, list[dict[str, Any]]] = {}
    for field in FormField.objects.filter(form=form).order_by("position", "id"):
        fields_by_section.setdefault(field.section_id, []).append(
            {
                "key": field.key,
                "label": field.label,
                "type": field.type,
                "required": field.required,
                "help_text": field.help_text,
                "unit": field.unit,
                "choices": field.choices,
                "per_arm": field.per_arm,
            }  # fmt: skip
        )
    return [
        {"title": s.title, "help_text": s.help_text, "fields": fields_by_section.get(s.pk, [])}
        for s in FormSection.objects.filter(form=form).order_by("position", "id")
    ]


@transaction.atomic
def form_create_default(*, review: Review, user: AnyUser | None = None) -> ExtractionForm:
    """The default form, published, unless the review has one of that name. Caller has checked the role."""
    versions = ExtractionForm.objects.filter(review=review, name=DEFAULT_FORM_NAME)
    published = versions.filter(status=Status.PUBLISHED).first()
    if published is not None:
        return published
    if versions.exists():
        raise ServiceConflict(
            f"“{DEFAULT_FORM_NAME}” has a draft but no published version: publish the draft to extract with it."
        )
    form = ExtractionForm.objects.create(
        review=review, name=DEFAULT_FORM_NAME, number=1, status=Status.PUBLISHED, published_at=timezone.now(),
        created_by=cast(User, user) if user is not None and user.is_authenticated else None,
    )  # fmt: skip
    _build(form, DEFAULT_SECTIONS)
    return form


def current_form(review: Review) -> ExtractionForm:
    """The published form new extractions use (the default one, published, if the review has none yet)."""
    form = ExtractionForm.objects.filter(review=review, status=Status.PUBLISHED).order_by("name", "-number").first()
    return form if form is not None else form_create_default(review=review)


@transaction.atomic
def form_create(*, user: AnyUser, review_id: int, name: str, from_default: bool = False) -> ExtractionForm:
    """A new form as a draft, empty or as a copy of the default."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the form a name."})
    if ExtractionForm.objects.filter(review=review, name=name).exists():
        raise ValidationError({"name": f"This review already has a form “{name}”."})
    form = ExtractionForm.objects.create(review=review, name=name[:200], created_by=cast(User, user))
    if from_default:
        _build(form, DEFAULT_SECTIONS)
    return form


@transaction.atomic
def form_new_draft(*, user: AnyUser, review_id: int, form_id: int | str) -> ExtractionForm:
    """A draft copied from a published (or retired) version, numbered after the newest; an existing draft of the
    same form is returned instead (one draft at a time)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    source = _form(review, form_id)
    draft = ExtractionForm.objects.filter(review=review, name=source.name, status=Status.DRAFT).first()
    if draft is not None:
        return draft
    newest = ExtractionForm.objects.filter(review=review, name=source.name).aggregate(m=Max("number"))["m"] or 0
    draft = ExtractionForm.objects.create(
        review=review, name=source.name, number=newest + 1, based_on=source, created_by=cast(User, user)
    )
    _build(draft, form_structure(source))
    return draft


@transaction.atomic
def form_publish(*, user: AnyUser, review_id: int, form_id: int | str, version: int | None = None) -> ExtractionForm:
    """Publish a draft: new extractions use it; the version it replaces is retired (its extractions stay)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    fields = list(FormField.objects.filter(form=form))
    if not fields:
        raise ValidationError({"fields": "Add at least one field before publishing the form."})
    for field in fields:
        if field.type in CHOICE_TYPES and not field.choices:
            raise ValidationError({"fields": f"“{field.label}” is a choice field without options."})
    for old in ExtractionForm.objects.select_for_update().filter(
        review=review, name=form.name, status=Status.PUBLISHED
    ):
        old.status = Status.RETIRED
        old.save(update_fields=["status"])
    form.status = Status.PUBLISHED
    form.published_at = timezone.now()
    form.version += 1
    form.save(update_fields=["status", "published_at", "version"])
    return form


@transaction.atomic
def form_delete(*, user: AnyUser, review_id: int, form_id: int | str) -> None:
    """Delete a draft (published and retired versions stay: extractions refer to them)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, None)
    form.delete()


@transaction.atomic
def section_add(
    *, user: AnyUser, review_id: int, form_id: int | str, title: str, help_text: str = "", version: int | None = None
) -> FormSection:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Give the section a title."})
    position = (form.sections.aggregate(m=Max("position"))["m"] or 0) + 1
    section = FormSection.objects.create(form=form, position=position, title=title[:200], help_text=help_text)
    _touch(form)
    return section


def _section(form: ExtractionForm, section_id: int | str) -> FormSection:
    try:
        return FormSection.objects.get(form=form, pk=int(section_id))
    except (FormSection.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such section in this form.") from exc


def _field(form: ExtractionForm, field_id: int | str) -> FormField:
    try:
        return FormField.objects.get(form=form, pk=int(field_id))
    except (FormField.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such field in this form.") from exc


@transaction.atomic
def section_update(
    *, user: AnyUser, review_id: int, form_id: int | str, section_id: int | str, version: int | None = None,
    **fields: Any,
) -> FormSection:  # fmt: skip
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    section = _section(form, section_id)
    unknown = sorted(set(fields) - set(SECTION_FIELDS))
    if unknown:
        raise ValidationError({name: "Not a field of a section." for name in unknown})
    for name, value in fields.items():
        setattr(section, name, str(value).strip())
    if not section.title:
        raise ValidationError({"title": "Give the section a title."})
    section.save()
    _touch(form)
    return section


@transaction.atomic
def section_delete(
    *, user: AnyUser, review_id: int, form_id: int | str, section_id: int | str, version: int | None = None
) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    _section(form, section_id).delete()
    _touch(form)


def _clean_field(field: FormField) -> None:
    field.label = field.label.strip()
    if not field.label:
        raise ValidationError({"label": "Give the field a label."})
    if field.type not in FormField.Type.values:
        raise ValidationError({"type": f"Choose one of {', '.join(FormField.Type.values)}."})
    choices = field.choices
    if isinstance(choices, str):
        choices = choices.split("\n")
    if not isinstance(choices, list):
        raise ValidationError({"choices": "Give the options as a list (one per line in the form)."})
    field.choices = list(dict.fromkeys(str(c).strip()[:200] for c in choices if str(c).strip()))
    if field.type in CHOICE_TYPES and len(field.choices) < 2:
        raise ValidationError({"choices": "A choice field needs at least two options, one per line."})
    if field.type not in CHOICE_TYPES:
        field.choices = []
    if field.unit and field.type not in (FormField.Type.INTEGER, FormField.Type.DECIMAL):
        raise ValidationError({"unit": "Only number fields have a unit."})
    if not re.fullmatch(r"[a-z0-9_-]{1,60}", field.key or ""):
        raise ValidationError({"key": "Use 1-60 lower-case letters, digits, - and _."})


@transaction.atomic
def field_add(
    *, user: AnyUser, review_id: int, form_id: int | str, section_id: int | str, version: int | None = None,
    **fields: Any,
) -> FormField:  # fmt: skip
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    section = _section(form, section_id)
    fields.pop("section", None)
    unknown = sorted(set(fields) - set(FIELD_FIELDS))
    if unknown:
        raise ValidationError({name: "Not a property of a form field." for name in unknown})
    field = FormField(form=form, section=section, **{k: v for k, v in fields.items() if k != "key"})
    wanted = str(fields.get("key") or "").strip()
    if wanted and FormField.objects.filter(form=form, key=wanted).exists():
        raise ValidationError({"key": f"Another field of this form has the key “{wanted}”."})
    # A key made from the label gets a number when taken; a key the user typed is refused above instead.
    field.key = wanted or _unique_key(form, slug_key(str(fields.get("label", ""))))
    field.position = (section.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    _clean_field(field)
    field.save()
    _touch(form)
    return field


@transaction.atomic
def field_update(
    *, user: AnyUser, review_id: int, form_id: int | str, field_id: int | str, version: int | None = None,
    **fields: Any,
) -> FormField:  # fmt: skip
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    field = _field(form, field_id)
    unknown = sorted(set(fields) - set(FIELD_FIELDS))
    if unknown:
        raise ValidationError({name: "Not a property of a form field." for name in unknown})
    if "section" in fields:
        field.section = _section(form, fields.pop("section"))
        field.position = (field.section.fields.aggregate(m=Max("position"))["m"] or 0) + 1
    if "key" in fields and fields["key"] != field.key:
        wanted = str(fields.pop("key"))
        if FormField.objects.filter(form=form, key=wanted).exclude(pk=field.pk).exists():
            raise ValidationError({"key": f"Another field of this form has the key “{wanted}”."})
        field.key = wanted
    for name, value in fields.items():
        setattr(field, name, value.strip() if isinstance(value, str) and name != "choices" else value)
    _clean_field(field)
    try:
        with transaction.atomic():
            field.save()
    except IntegrityError as exc:
        raise ValidationError({"key": "Another field of this form has that key."}) from exc
    _touch(form)
    return field


@transaction.atomic
def field_delete(
    *, user: AnyUser, review_id: int, form_id: int | str, field_id: int | str, version: int | None = None
) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    _field(form, field_id).delete()
    _touch(form)


@transaction.atomic
def form_reorder(
    *, user: AnyUser, review_id: int, form_id: int | str, sections: list[dict[str, Any]], version: int | None = None
) -> ExtractionForm:
    """Put sections and fields in the order given: `[{"id": section id, "fields": [field ids]}, …]`, every
    section and field of the form once (a field listed under another section moves there)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    form = _draft(review, form_id, version)
    all_sections = {s.pk: s for s in FormSection.objects.filter(form=form)}
    all_fields = {f.pk: f for f in FormField.objects.filter(form=form)}
    try:
        section_ids = [int(item["id"]) for item in sections]
        field_ids = [[int(fid) for fid in item.get("fields", [])] for item in sections]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError({"sections": "Give a list of {id, fields: [ids]}."}) from exc
    flat = [fid for ids in field_ids for fid in ids]
    if sorted(section_ids) != sorted(all_sections) or sorted(flat) != sorted(all_fields):
        raise ServiceConflict("The form changed since you opened it (sections or fields differ). Reload it.")
    for s_pos, (section_id, ids) in enumerate(zip(section_ids, field_ids, strict=True), start=1):
        section = all_sections[section_id]
        section.position = s_pos
        for f_pos, fid in enumerate(ids, start=1):
            all_fields[fid].section = section
            all_fields[fid].position = f_pos
    FormSection.objects.bulk_update(all_sections.values(), ["position"])
    FormField.objects.bulk_update(all_fields.values(), ["section", "position"])
    _touch(form)
    return form
