"""REST API of the form builder: what the builder pages (extraction/views_forms.py) do, through the same services
(extraction/services/forms.py), which hold every rule: a draft is edited, a published or retired version is not
(409: make a new version of it), the draft's `version` guards against a stale change (409), another review's
form, section or field is 404.

Every write needs an editor or owner; the role is checked before the body is read, so a reviewer learns 403
before any field error. A change of a draft answers with the draft's new `version` (`form_version` on a section
or field), to send with the next change."""

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import MAX_ID
from extraction import api, selectors
from extraction.api import VERSION_HELP, FormFieldSerializer, FormSectionSerializer, FormSerializer, doc, member_review
from extraction.default_form import DEFAULT_FORM_NAME
from extraction.forms_builder import MoveForm
from extraction.models import ExtractionForm, FormField, FormSection
from extraction.services import forms as services
from reviews.api import ERRORS
from reviews.models import Membership, Review

Role = Membership.Role
Status = ExtractionForm.Status
FORM_VERSION_HELP = "The form's version after this change: send it with the next change of the draft."


def _id(**kwargs: Any) -> serializers.IntegerField:
    """An id in a body, bounded so that a huge number is a 400 here, not an overflow in the database driver."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _version(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_ID, help_text=VERSION_HELP, **kwargs)


# --- serializers ----------------------------------------------------------------------------------------------


class FormCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, max_length=200, help_text="The new form's name (a draft); leave out with `default`."
    )
    from_default = serializers.BooleanField(
        default=False, help_text="With `name`: start from a copy of the default form's sections and fields."
    )
    default = serializers.BooleanField(
        default=False,
        help_text=f"true: the default form (“{DEFAULT_FORM_NAME}”), published at once; the review's own when it "
        "has one already. Without `name`.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["default"] and "name" in attrs:
            raise serializers.ValidationError({"name": "Either a name (a new draft) or default: true, not both."})
        if not attrs["default"] and "name" not in attrs:
            raise serializers.ValidationError({"name": "Give the form a name (or send default: true)."})
        return attrs


class VersionSerializer(serializers.Serializer):
    version = _version()


class SectionWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    help_text = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", help_text="Shown to extractors under the section's title."
    )
    version = _version()


class SectionChangeSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    help_text = serializers.CharField(required=False, allow_blank=True)  # type: ignore[assignment]
    version = _version()


class SectionSavedSerializer(FormSectionSerializer):
    form_version = serializers.IntegerField(source="section.form.version", help_text=FORM_VERSION_HELP)


# The bodies take the component name of the form field (documented as FormFieldRequest and PatchedFormFieldRequest),
# so that the field types are one enum, FormFieldTypeEnum (see api.py).
@extend_schema_serializer(component_name="FormField")
class FieldWriteSerializer(serializers.Serializer):
    label = serializers.CharField(max_length=300)  # type: ignore[assignment]
    key = serializers.CharField(
        required=False, allow_blank=True, max_length=60,
        help_text="Names the field in exports and across versions; left out, it is made from the label.",
    )  # fmt: skip
    type = serializers.ChoiceField(choices=FormField.Type.choices, default=FormField.Type.TEXT)
    required = serializers.BooleanField(  # type: ignore[assignment]
        default=False, help_text="Extractors cannot complete without it."
    )
    help_text = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", help_text="Shown to extractors under the field."
    )
    unit = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50, help_text="Number fields only, e.g. “mg/kg”."
    )
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=500,
        help_text="Choice fields only: the options (at least two).",
    )  # fmt: skip
    per_arm = serializers.BooleanField(default=False, help_text="Asked once for each arm of the study.")
    version = _version()


@extend_schema_serializer(component_name="FormField")
class FieldChangeSerializer(serializers.Serializer):
    """Used with partial=True: a PATCH changes only what it names (a form-encoded body leaving out `required`
    must not switch it off); `version` is checked in validate()."""

    label = serializers.CharField(max_length=300)  # type: ignore[assignment]
    key = serializers.CharField(max_length=60, help_text="Kept by later versions, so that values carry over.")
    type = serializers.ChoiceField(choices=FormField.Type.choices)
    required = serializers.BooleanField()  # type: ignore[assignment]
    help_text = serializers.CharField(allow_blank=True)  # type: ignore[assignment]
    unit = serializers.CharField(allow_blank=True, max_length=50)
    choices = serializers.ListField(child=serializers.CharField(max_length=200), max_length=500)
    per_arm = serializers.BooleanField()
    section = _id(help_text="Move the field to the end of this section of the same form.")
    version = _version()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "version" not in attrs:
            raise serializers.ValidationError({"version": "This field is required."})
        return attrs


class FieldSavedSerializer(FormFieldSerializer):
    # A plain string here: the choice set is documented once, in FormField.
    type = serializers.CharField(help_text="One of FormFieldTypeEnum.")
    section = serializers.IntegerField(source="section_id", help_text="The section the field is in.")
    form_version = serializers.IntegerField(source="form.version", help_text=FORM_VERSION_HELP)

    class Meta(FormFieldSerializer.Meta):
        fields = [*FormFieldSerializer.Meta.fields, "section", "form_version"]
        read_only_fields = fields


class OrderItemSerializer(serializers.Serializer):
    id = _id(help_text="A section of the form.")
    fields = serializers.ListField(  # type: ignore[assignment]
        child=_id(), required=False, default=list, help_text="The section's fields in order (ids)."
    )


class ReorderSerializer(serializers.Serializer):
    sections = OrderItemSerializer(
        many=True,
        help_text="Every section of the form once, in order, each with its fields in order (a field listed under "
        "another section moves there), as the builder's script posts it.",
    )
    version = _version()


class MoveSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[("section", "section"), ("field", "field")])
    id = _id(help_text="The section or field to move.")
    direction = serializers.ChoiceField(
        choices=[("up", "up"), ("down", "down")],
        help_text="One step; a field at the edge of its section moves into the next section (or the one before).",
    )
    version = _version()


# --- helpers --------------------------------------------------------------------------------------------------


def _editor(request: Request, review_pk: int) -> Review:
    return member_review(request, review_pk, Role.EDITOR)


def _must_exist(review: Review, form_pk: int, section_pk: int | None = None, field_pk: int | None = None) -> None:
    """404 for a form, section or field that is not this review's, before the body is judged: an id from
    another review answers as one that does not exist, whatever was sent (tests/security/test_idor.py)."""
    form = selectors.form_get(review=review, form_id=form_pk)
    if section_pk is not None and not FormSection.objects.filter(form=form, pk=section_pk).exists():
        raise Http404("No such section in this form.")
    if field_pk is not None and not FormField.objects.filter(form=form, pk=field_pk).exists():
        raise Http404("No such field in this form.")


def _form_data(review: Review, form_id: int) -> dict[str, Any]:
    return FormSerializer(selectors.form_get(review=review, form_id=form_id)).data  # type: ignore[return-value]


def _section_data(review: Review, form_id: int, section_id: int) -> dict[str, Any]:
    form = selectors.form_get(review=review, form_id=form_id)
    for view in selectors.form_sections(form):
        if view.section.pk == section_id:
            return SectionSavedSerializer(view).data  # type: ignore[return-value]
    raise Http404("No such section in this form.")


def _field_data(review: Review, form_id: int, field_id: int) -> dict[str, Any]:
    form = selectors.form_get(review=review, form_id=form_id)
    for found in form.fields.all():
        if found.pk == field_id:
            return FieldSavedSerializer(found).data  # type: ignore[return-value]
    raise Http404("No such field in this form.")


FORM_PK = OpenApiParameter("form_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The form version.")
DELETE_VERSION = OpenApiParameter(
    "version", OpenApiTypes.INT, description=f"{VERSION_HELP} Optional: without it, no check."
)


def _query_version(request: Request) -> int | None:
    raw = request.query_params.get("version")
    if raw is None or raw == "":
        return None
    body = VersionSerializer(data={"version": raw})
    body.is_valid(raise_exception=True)
    return int(body.validated_data["version"])


# --- forms ----------------------------------------------------------------------------------------------------


class FormListView(api.FormListView):
    @doc(
        summary="Make a form: a named draft (empty or a copy of the default form), or with `default: true` the "
        "default form, published (editor, owner; 200 with the review's own when it has one already)",
        request=FormCreateSerializer,
        responses={201: FormSerializer, 200: FormSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = _editor(request, review_pk)
        body = FormCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["default"]:
            existed = (
                selectors.form_list(review=review).filter(name=DEFAULT_FORM_NAME, status=Status.PUBLISHED).exists()
            )
            made = services.form_create_default(review=review, user=request.user)
            code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        else:
            made = services.form_create(
                user=request.user, review_id=review.pk, name=data["name"], from_default=data["from_default"]
            )
            code = status.HTTP_201_CREATED
        return Response(_form_data(review, made.pk), status=code)


class FormDetailView(api.FormDetailView):
    @doc(
        summary="Delete a draft (editor, owner; 409 for a published or retired version: extractions use it)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, pk: int) -> Response:
        review = _editor(request, review_pk)
        services.form_delete(user=request.user, review_id=review.pk, form_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FormNewVersionView(APIView):
    @doc(
        summary="Make a new draft version of a form, a copy of this version with the same keys (editor, owner; the "
        "form's existing draft when it has one)",
        parameters=[FORM_PK],
        request=None,
        responses={201: FormSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int) -> Response:
        review = _editor(request, review_pk)
        draft = services.form_new_draft(user=request.user, review_id=review.pk, form_id=form_pk)
        return Response(_form_data(review, draft.pk), status=status.HTTP_201_CREATED)


class FormPublishView(APIView):
    @doc(
        summary="Publish a draft: new extractions use it, the version before is retired (editor, owner; 400 "
        "without fields or with a choice field without options, 409 if not a draft or stale)",
        parameters=[FORM_PK],
        request=VersionSerializer,
        responses={200: FormSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int) -> Response:
        review = _editor(request, review_pk)
        body = VersionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.form_publish(
            user=request.user, review_id=review.pk, form_id=form_pk, version=body.validated_data["version"]
        )
        return Response(_form_data(review, form_pk))


class FormReorderView(APIView):
    @doc(
        summary="Put the draft's sections and fields in this order (editor, owner; 409 if the sections or fields "
        "listed are not exactly the form's)",
        parameters=[FORM_PK],
        request=ReorderSerializer,
        responses={200: FormSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int) -> Response:
        review = _editor(request, review_pk)
        _must_exist(review, form_pk)
        body = ReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.form_reorder(
            user=request.user, review_id=review.pk, form_id=form_pk, sections=[dict(s) for s in data["sections"]],
            version=data["version"],
        )  # fmt: skip
        return Response(_form_data(review, form_pk))


class FormMoveView(APIView):
    @doc(
        summary="Move a section or a field one step up or down (editor, owner; as the builder's buttons)",
        parameters=[FORM_PK],
        request=MoveSerializer,
        responses={200: FormSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int) -> Response:
        review = _editor(request, review_pk)
        _must_exist(review, form_pk)
        body = MoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        form = selectors.form_get(review=review, form_id=form_pk)
        order = selectors.form_order(form)
        present = [s["id"] for s in order] if data["kind"] == "section" else [f for s in order for f in s["fields"]]
        if data["id"] not in present:
            raise Http404(f"No such {data['kind']} in this form.")
        # The page's own move (MoveForm.apply), so that a step means the same in both.
        move = MoveForm({"kind": data["kind"], "id": data["id"], "direction": data["direction"]})
        move.is_valid()
        services.form_reorder(
            user=request.user, review_id=review.pk, form_id=form.pk, sections=move.apply(order),
            version=data["version"],
        )  # fmt: skip
        return Response(_form_data(review, form_pk))


# --- sections -------------------------------------------------------------------------------------------------


class SectionListView(APIView):
    @doc(
        summary="Add a section at the end of a draft (editor, owner)",
        parameters=[FORM_PK],
        request=SectionWriteSerializer,
        responses={201: SectionSavedSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int) -> Response:
        review = _editor(request, review_pk)
        body = SectionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        section = services.section_add(
            user=request.user, review_id=review.pk, form_id=form_pk, version=data.pop("version"), **data
        )
        return Response(_section_data(review, form_pk, section.pk), status=status.HTTP_201_CREATED)


class SectionDetailView(APIView):
    @doc(
        summary="Rename a section of a draft or change its help text (editor, owner)",
        parameters=[FORM_PK],
        request=SectionChangeSerializer,
        responses={200: SectionSavedSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, form_pk: int, pk: int) -> Response:
        review = _editor(request, review_pk)
        _must_exist(review, form_pk, section_pk=pk)
        body = SectionChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        services.section_update(
            user=request.user, review_id=review.pk, form_id=form_pk, section_id=pk, version=data.pop("version"),
            **data,
        )  # fmt: skip
        return Response(_section_data(review, form_pk, pk))

    @doc(
        summary="Delete a section of a draft and its fields (editor, owner); the form as it is now",
        parameters=[FORM_PK, DELETE_VERSION],
        responses={200: FormSerializer, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, form_pk: int, pk: int) -> Response:
        review = _editor(request, review_pk)
        services.section_delete(
            user=request.user, review_id=review.pk, form_id=form_pk, section_id=pk, version=_query_version(request)
        )
        return Response(_form_data(review, form_pk))


# --- fields ---------------------------------------------------------------------------------------------------


class FieldListView(APIView):
    @doc(
        summary="Add a field at the end of a section of a draft (editor, owner)",
        parameters=[FORM_PK],
        request=FieldWriteSerializer,
        responses={201: FieldSavedSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, form_pk: int, section_pk: int) -> Response:
        review = _editor(request, review_pk)
        _must_exist(review, form_pk, section_pk=section_pk)
        body = FieldWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if not data.get("key"):
            data.pop("key", None)  # made from the label by the service
        added = services.field_add(
            user=request.user, review_id=review.pk, form_id=form_pk, section_id=section_pk,
            version=data.pop("version"), **data,
        )  # fmt: skip
        return Response(_field_data(review, form_pk, added.pk), status=status.HTTP_201_CREATED)


class FieldDetailView(APIView):
    @doc(
        summary="Change a field of a draft, or move it to another section (editor, owner)",
        parameters=[FORM_PK],
        request=FieldChangeSerializer,
        responses={200: FieldSavedSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, form_pk: int, pk: int) -> Response:
        review = _editor(request, review_pk)
        _must_exist(review, form_pk, field_pk=pk)
        body = FieldChangeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        services.field_update(
            user=request.user, review_id=review.pk, form_id=form_pk, field_id=pk, version=data.pop("version"),
            **data,
        )  # fmt: skip
        return Response(_field_data(review, form_pk, pk))

    @doc(
        summary="Delete a field of a draft (editor, owner); the form as it is now",
        parameters=[FORM_PK, DELETE_VERSION],
        responses={200: FormSerializer, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, form_pk: int, pk: int) -> Response:
        review = _editor(request, review_pk)
        services.field_delete(
            user=request.user, review_id=review.pk, form_id=form_pk, field_id=pk, version=_query_version(request)
        )
        return Response(_form_data(review, form_pk))
