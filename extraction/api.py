"""REST API of extraction set-up: studies with their reports and arms, the extraction forms (read-only) and the
extraction settings, and the helpers the other extraction API modules share. The review's outcomes and
comparisons are in api_outcomes.py; extractions, outcome data and discrepancies in api_extractions.py; the CSV
export in api_exports.py.

Authorization lives in the services and selectors: every write names the acting user (from the request) and
the review from the URL; the services check the role (an editor or owner sets studies up, a reviewer gets
403) and scope every id to the review (another review's id is 404). Writes check the role before reading the
body, so a reviewer learns 403 before any field error."""

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, Pagination, page_of
from core.filters import filter_parameters, filter_queryset
from extraction import selectors
from extraction.filters import StudyFilter
from extraction.models import (
    Arm,
    ExtractionForm,
    ExtractionSettings,
    FormField,
    FormSection,
    Study,
    StudyReport,
)
from extraction.services import studies as study_services
from extraction.services.studies import settings_for
from reviews.api import ERRORS
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

Role = Membership.Role
TAGS = ["extraction"]
VERSION_HELP = "The version you read: if someone saved since, the answer is 409 and nothing is changed."


def doc(**kwargs: Any) -> Any:
    """extend_schema with the extraction tag."""
    return extend_schema(tags=TAGS, **kwargs)


def member_review(request: Request, review_pk: int, role: str = Role.REVIEWER) -> Review:
    """The review if the requester is a member with at least `role` (404 for outsiders, 403 for too small a role)."""
    return review_get_for_user(user=request.user, review_id=review_pk, role=role)


# --- serializers ----------------------------------------------------------------------------------------------
# A PATCH body takes its model's component name (documented as `Patched<Model>Request`): each choice set then sits
# in one component family, and drf-spectacular names its enum (`OutcomeTypeEnum`, …) without a collision.


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ["id", "position", "name", "intervention", "dose", "route", "randomised", "completed"]
        read_only_fields = ["id"]


@extend_schema_serializer(component_name="Arm")  # documented as PatchedArmRequest
class ArmChangeSerializer(ArmSerializer):
    class Meta(ArmSerializer.Meta):
        extra_kwargs = {name: {"required": False} for name in ArmSerializer.Meta.fields}


class ReportSerializer(serializers.ModelSerializer):
    record = serializers.IntegerField(source="record_id", read_only=True)
    title = serializers.CharField(source="record.title", read_only=True)
    authors = serializers.ListField(child=serializers.CharField(), source="record.authors", read_only=True)
    year = serializers.IntegerField(source="record.year", read_only=True, allow_null=True)

    class Meta:
        model = StudyReport
        fields = ["record", "primary", "title", "authors", "year", "added_at"]
        read_only_fields = fields


class ReportAddSerializer(serializers.Serializer):
    record = serializers.IntegerField(help_text="A record of this review (a duplicate: its primary record).")
    primary = serializers.BooleanField(required=False, default=False, help_text="Make it the primary report.")


class ReportChangeSerializer(serializers.Serializer):
    primary = serializers.BooleanField(help_text="true: make this the study's primary report (the other one stops).")

    def validate_primary(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("Make another report primary instead (a study keeps one).")
        return value


class StudySerializer(serializers.ModelSerializer):
    reports = ReportSerializer(many=True, read_only=True)
    arms = ArmSerializer(many=True, read_only=True)
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Study
        fields = [
            "id", "label", "design", "notes", "reports", "arms", "created_by", "created_at", "updated_at", "version",
        ]  # fmt: skip
        read_only_fields = fields


class StudyCreateSerializer(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", max_length=100,
        help_text="The study ID, e.g. “Hardy 2012”; omitted with `records`: the first record's `Surname Year`.",
    )  # fmt: skip
    design = serializers.ChoiceField(choices=Study.Design.choices, default=Study.Design.PARALLEL)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    records = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list,
        help_text="Records reporting the study (the first becomes its primary report).",
    )  # fmt: skip


@extend_schema_serializer(component_name="Study")  # documented as PatchedStudyRequest
class StudyChangeSerializer(serializers.Serializer):
    label = serializers.CharField(required=False, max_length=100)  # type: ignore[assignment]
    design = serializers.ChoiceField(choices=Study.Design.choices, required=False)
    notes = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(help_text=VERSION_HELP)


class FormFieldSerializer(serializers.ModelSerializer):
    class Meta:
        model = FormField
        fields = ["id", "key", "label", "type", "required", "help_text", "unit", "choices", "per_arm", "position"]
        read_only_fields = fields


class FormSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="section.pk")
    title = serializers.CharField(source="section.title")
    help_text = serializers.CharField(source="section.help_text")  # type: ignore[assignment]
    position = serializers.IntegerField(source="section.position")
    # A declared field leaves the class attribute (the metaclass collects it), so `Serializer.fields` still works.
    fields = FormFieldSerializer(many=True)  # type: ignore[assignment]


class FormSerializer(serializers.ModelSerializer):
    sections = serializers.SerializerMethodField()

    class Meta:
        model = ExtractionForm
        fields = ["id", "name", "number", "status", "published_at", "version", "sections"]
        read_only_fields = fields

    @extend_schema_field(FormSectionSerializer(many=True))
    def get_sections(self, form: ExtractionForm) -> list[dict[str, Any]]:
        return FormSectionSerializer(selectors.form_sections(form), many=True).data  # type: ignore[return-value]


class ExtractionSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtractionSettings
        fields = ["extractors_per_study", "blinded", "version"]
        read_only_fields = ["version"]


@extend_schema_serializer(component_name="ExtractionSettings")  # documented as PatchedExtractionSettingsRequest
class ExtractionSettingsChangeSerializer(ExtractionSettingsSerializer):
    version = serializers.IntegerField(help_text=VERSION_HELP)

    class Meta(ExtractionSettingsSerializer.Meta):
        read_only_fields: list[str] = []
        extra_kwargs = {"extractors_per_study": {"required": False}, "blinded": {"required": False}}


def version_and_changes(validated: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    fields = dict(validated)
    return fields.pop("version"), fields


# --- studies --------------------------------------------------------------------------------------------------


class StudyListView(APIView):
    @doc(
        summary="The review's studies with their reports and arms (members)",
        parameters=[*filter_parameters(StudyFilter), *PAGE_PARAMETERS],
        responses={200: page_of(StudySerializer), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk)
        paginator = Pagination()
        studies = filter_queryset(
            request, selectors.study_list(review=review).select_related("created_by"), StudyFilter
        )
        page = paginator.paginate_queryset(studies, request, view=self)
        return paginator.get_paginated_response(StudySerializer(page, many=True).data)

    @doc(
        summary="Make a study, by hand or from records (editor, owner)",
        request=StudyCreateSerializer,
        responses={201: StudySerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = StudyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        study = study_services.study_create(
            user=request.user, review_id=review.pk, label=data["label"], design=data["design"], notes=data["notes"],
            record_ids=data["records"],
        )  # fmt: skip
        found = selectors.study_get(review=review, study_id=study.pk)
        return Response(StudySerializer(found).data, status=status.HTTP_201_CREATED)


class StudiesFromIncludedView(APIView):
    @doc(
        summary="Make one study for each record included at full text that reports no study yet (editor, owner); "
        "the studies made, none when every included record has its study",
        request=None,
        responses={201: StudySerializer(many=True), **ERRORS},
    )
    def post(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        made = study_services.studies_create_from_included(user=request.user, review_id=review.pk)
        studies = selectors.study_list(review=review).filter(pk__in=[s.pk for s in made]).select_related("created_by")
        return Response(StudySerializer(studies, many=True).data, status=status.HTTP_201_CREATED)


class StudyDetailView(APIView):
    @doc(summary="One study", responses={200: StudySerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(StudySerializer(selectors.study_get(review=review, study_id=pk)).data)

    @doc(
        summary="Change a study's label, design or notes (editor, owner; send the version you read)",
        request=StudyChangeSerializer,
        responses={200: StudySerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = StudyChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, fields = version_and_changes(body.validated_data)
        study_services.study_update(user=request.user, review_id=review.pk, study_id=pk, version=version, **fields)
        return Response(StudySerializer(selectors.study_get(review=review, study_id=pk)).data)

    @doc(
        summary="Delete a study nobody has extracted (editor, owner; 409 once extracted)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, pk: int) -> Response:
        study_services.study_delete(user=request.user, review_id=review_pk, study_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- reports --------------------------------------------------------------------------------------------------


class ReportListView(APIView):
    @doc(summary="A study's reports, the primary first (members)", responses={200: ReportSerializer(many=True)})
    def get(self, request: Request, review_pk: int, study_pk: int) -> Response:
        study = selectors.study_get(review=member_review(request, review_pk), study_id=study_pk)
        return Response(ReportSerializer(study.reports.all(), many=True).data)

    @doc(
        summary="Link a record to the study as a report (editor, owner; a record reporting another study moves)",
        request=ReportAddSerializer,
        responses={201: ReportSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = ReportAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = study_services.report_add(
            user=request.user, review_id=review.pk, study_id=study_pk, record_id=body.validated_data["record"],
            primary=body.validated_data["primary"],
        )  # fmt: skip
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


class ReportDetailView(APIView):
    @doc(
        summary="Make this report the study's primary one (editor, owner)",
        request=ReportChangeSerializer,
        responses={200: ReportSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, study_pk: int, record_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        # The report before the body: an id from elsewhere is a 404 whatever was sent.
        study = selectors.study_get(review=review, study_id=study_pk)
        if not StudyReport.objects.filter(study=study, record_id=record_pk).exists():
            raise Http404("No such report of this study.")
        ReportChangeSerializer(data=request.data).is_valid(raise_exception=True)
        report = study_services.report_set_primary(
            user=request.user, review_id=review.pk, study_id=study_pk, record_id=record_pk
        )
        return Response(ReportSerializer(report).data)

    @doc(summary="Unlink a report from the study (editor, owner)", responses={204: None, **ERRORS})
    def delete(self, request: Request, review_pk: int, study_pk: int, record_pk: int) -> Response:
        study_services.report_remove(user=request.user, review_id=review_pk, study_id=study_pk, record_id=record_pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- arms -----------------------------------------------------------------------------------------------------


def _arms(review: Review, study_pk: int) -> QuerySet[Arm]:
    return selectors.study_get(review=review, study_id=study_pk).arms.all()


class ArmListView(APIView):
    @doc(summary="A study's arms in order (members)", responses={200: ArmSerializer(many=True), **ERRORS})
    def get(self, request: Request, review_pk: int, study_pk: int) -> Response:
        return Response(ArmSerializer(_arms(member_review(request, review_pk), study_pk), many=True).data)

    @doc(
        summary="Add an arm to the study (editor, owner)",
        request=ArmSerializer,
        responses={201: ArmSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = ArmSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arm = study_services.arm_create(
            user=request.user, review_id=review.pk, study_id=study_pk, **body.validated_data
        )
        return Response(ArmSerializer(arm).data, status=status.HTTP_201_CREATED)


class ArmDetailView(APIView):
    @doc(summary="One arm", responses={200: ArmSerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        arm = _arms(member_review(request, review_pk), study_pk).filter(pk=pk).first()
        if arm is None:
            raise Http404("No such arm in this study.")
        return Response(ArmSerializer(arm).data)

    @doc(
        summary="Change an arm (editor, owner)",
        request=ArmChangeSerializer,
        responses={200: ArmSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = ArmChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        arm = study_services.arm_update(
            user=request.user, review_id=review.pk, study_id=study_pk, arm_id=pk, **body.validated_data
        )
        return Response(ArmSerializer(arm).data)

    @doc(summary="Delete an arm and the values extracted for it (editor, owner)", responses={204: None, **ERRORS})
    def delete(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        study_services.arm_delete(user=request.user, review_id=review_pk, study_id=study_pk, arm_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- forms (read-only here; the form builder edits them) ------------------------------------------------------


def _forms(review: Review) -> QuerySet[ExtractionForm]:
    return selectors.form_list(review=review).prefetch_related(
        Prefetch("sections", queryset=FormSection.objects.order_by("position", "id")),
        Prefetch("fields", queryset=FormField.objects.order_by("position", "id")),
    )


class FormListView(APIView):
    @doc(
        summary="The review's extraction forms, every version, with their sections and fields (members)",
        responses={200: FormSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        return Response(FormSerializer(_forms(member_review(request, review_pk)), many=True).data)


class FormDetailView(APIView):
    @doc(summary="One extraction form version with its sections and fields", responses={200: FormSerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(FormSerializer(selectors.form_get(review=review, form_id=pk)).data)


# --- settings -------------------------------------------------------------------------------------------------


class SettingsView(APIView):
    @doc(
        summary="Extraction settings (members read; the owner changes them)",
        responses={200: ExtractionSettingsSerializer},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        return Response(ExtractionSettingsSerializer(settings_for(member_review(request, review_pk))).data)

    @doc(
        summary="Change the extraction settings (owner; send the version you read)",
        request=ExtractionSettingsChangeSerializer,
        responses={200: ExtractionSettingsSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.OWNER)
        body = ExtractionSettingsChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, fields = version_and_changes(body.validated_data)
        changed = study_services.settings_update(user=request.user, review_id=review.pk, version=version, **fields)
        return Response(ExtractionSettingsSerializer(changed).data)
