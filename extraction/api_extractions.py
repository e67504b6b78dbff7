"""REST API of extracting: a study's extractions (values per field, per arm as `key@armid`), its outcome data and
the discrepancies between the reviewers' extractions.

Blinding is the selectors' (`selectors.extraction_list`): while extraction is blinded a reviewer reads only
their own extraction; another's answers 404, as if it did not exist. Writes go through the services, which
lock the extraction, refuse a stale `version` (409, naming what changed since) and check who may write."""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, Pagination, page_of
from extraction import selectors
from extraction.api import VERSION_HELP, doc, member_review
from extraction.models import ALL_DATA_FIELDS, Discrepancy, Extraction, ExtractionForm, FieldValue, OutcomeData, Study
from extraction.services import extracting
from extraction.services.forms import current_form
from reviews.api import ERRORS
from reviews.models import Membership, Review

Role = Membership.Role


class PlainDecimalField(serializers.DecimalField):
    """A decimal as the number it is ("1.5", not the column's "1.50000000"); a string, so nothing is lost."""

    def to_representation(self, value: Any) -> Any:
        if value is None:
            return None
        return plain_decimal(Decimal(value))


def plain_decimal(number: Decimal) -> str:
    return format(number.normalize(), "f")


class OutcomeDataRowSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: PlainDecimalField,
    }

    class Meta:
        model = OutcomeData
        fields = ["id", "comparison", "outcome", "subgroup", "arm_1", "arm_2", *ALL_DATA_FIELDS, "note"]
        read_only_fields = ["id"]


class OutcomeDataPutSerializer(serializers.Serializer):
    """The PUT body; a bare list of rows is accepted too (no version guard then)."""

    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=f"The extraction's version you read (guards the rows). {VERSION_HELP}",
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="Every row of the study (rows not given are removed): `comparison`, `outcome`, optional "
        "`subgroup`, `arm_1`, `arm_2`, `note`, and by the outcome's type `events_1, total_1, events_2, total_2` "
        "(dichotomous), `mean_1, sd_1, total_1, mean_2, sd_2, total_2` (continuous) or `estimate, se` (generic "
        "inverse variance). Group 1 is the comparison's intervention.",
    )


class OutcomeDataSetSerializer(serializers.Serializer):
    """Documentation of the outcome-data answer (built as a dict)."""

    extraction = serializers.IntegerField(allow_null=True, help_text="null: not started yet (a PUT starts it).")
    consensus = serializers.BooleanField(help_text="true: the study's consensus (what analyses read).")
    reviewer = serializers.CharField(allow_null=True, help_text="Whose extraction (null for the consensus).")
    version = serializers.IntegerField(allow_null=True, help_text="Send it back with a PUT to guard the rows.")
    rows = OutcomeDataRowSerializer(many=True)


class FormRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExtractionForm
        fields = ["id", "name", "number"]
        read_only_fields = fields


class ExtractionSerializer(serializers.ModelSerializer):
    form = FormRefSerializer(read_only=True)
    reviewer: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="null for the study's consensus."
    )
    values = serializers.SerializerMethodField(
        help_text="Field key → value; a per-arm field as `key@<arm id>`. Numbers of decimal fields are strings."
    )
    outcome_data = serializers.SerializerMethodField()

    class Meta:
        model = Extraction
        fields = ["id", "study", "form", "reviewer", "status", "version", "values", "outcome_data", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_values(self, extraction: Extraction) -> dict[str, Any]:
        return self.context["values"].get(extraction.pk, {})

    @extend_schema_field(OutcomeDataRowSerializer(many=True))
    def get_outcome_data(self, extraction: Extraction) -> list[dict[str, Any]]:
        rows = self.context["rows"].get(extraction.pk, [])
        return OutcomeDataRowSerializer(rows, many=True).data  # type: ignore[return-value]


def extraction_context(extractions: list[Extraction]) -> dict[str, Any]:
    """The values and outcome-data rows of these extractions, two queries for any number of them."""
    ids = [e.pk for e in extractions]
    values: dict[int, dict[str, Any]] = {}
    for v in (
        FieldValue.objects.filter(extraction_id__in=ids)
        .select_related("field")
        .order_by("field__section__position", "field__position", "arm__position", "arm_id")
    ):
        values.setdefault(v.extraction_id, {})[f"{v.field.key}@{v.arm_id}" if v.arm_id else v.field.key] = v.value
    rows: dict[int, list[OutcomeData]] = {}
    for row in OutcomeData.objects.filter(extraction_id__in=ids):
        rows.setdefault(row.extraction_id, []).append(row)
    return {"values": values, "rows": rows}


def serialize_extractions(extractions: list[Extraction]) -> Any:
    return ExtractionSerializer(extractions, many=True, context=extraction_context(extractions)).data


def serialize_extraction(extraction: Extraction) -> Any:
    return ExtractionSerializer(extraction, context=extraction_context([extraction])).data


class ExtractionStartSerializer(serializers.Serializer):
    reviewer = serializers.IntegerField(
        required=False, allow_null=True, help_text="Editor, owner: the user id of the member to assign (default: me)."
    )


@extend_schema_serializer(component_name="Extraction")  # documented as PatchedExtractionRequest
class ExtractionChangeSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text=VERSION_HELP + " The 409 message lists what changed since.")
    values = serializers.DictField(
        required=False,
        help_text="Field key → input (`key@<arm id>` for a per-arm field); null or an empty string removes a value. "
        "All or nothing: a value that does not fit its field is refused with a message under its key.",
    )
    status = serializers.ChoiceField(
        choices=Extraction.Status.choices,
        required=False,
        help_text="complete: every required field is filled (after `values` are saved); in_progress: reopen.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "values" not in attrs and "status" not in attrs:
            raise serializers.ValidationError("Send `values`, `status` or both.")
        return attrs


def _study(review: Review, study_pk: int) -> Study:
    return selectors.study_get(review=review, study_id=study_pk)


def _readable(review: Review, user: User | AnonymousUser, study_pk: int, pk: int) -> Extraction:
    """The extraction if the user may read it (blinding) and it is of this study; 404 otherwise."""
    extraction = selectors.extraction_get(review=review, user=user, extraction_id=pk)
    if extraction.study_id != int(study_pk):
        raise Http404("No such extraction of this study.")
    return extraction


class ExtractionListView(APIView):
    @doc(
        summary="A study's extractions: mine (a reviewer, while blinded) or every one and the consensus",
        responses={200: ExtractionSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk)
        found = list(selectors.extraction_list(review=review, user=request.user, study=_study(review, study_pk)))
        return Response(serialize_extractions(found))

    @doc(
        summary="Start my extraction of the study with the published form (an editor may assign a member); "
        "201 when started now, 200 when it existed",
        request=ExtractionStartSerializer,
        responses={200: ExtractionSerializer, 201: ExtractionSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk)
        body = ExtractionStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        started = timezone.now()
        extraction = extracting.extraction_start(
            user=request.user, review_id=review.pk, study_id=study_pk, reviewer_id=body.validated_data.get("reviewer")
        )
        code = status.HTTP_201_CREATED if extraction.created_at >= started else status.HTTP_200_OK
        return Response(serialize_extraction(extraction), status=code)


class ExtractionDetailView(APIView):
    @doc(
        summary="One extraction (another reviewer's is 404 while blinded)",
        responses={200: ExtractionSerializer, **ERRORS},
    )
    def get(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        return Response(serialize_extraction(_readable(review, request.user, study_pk, pk)))

    @doc(
        summary="Save values and/or mark complete (mine; the consensus: editor, owner). Send the version you read",
        request=ExtractionChangeSerializer,
        responses={200: ExtractionSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        extraction = _readable(review, request.user, study_pk, pk)
        body = ExtractionChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        with transaction.atomic():  # values and status together, or neither
            version = data["version"]
            if "values" in data:
                extraction = extracting.extraction_save(
                    user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
                    values=data["values"],
                )  # fmt: skip
                version = extraction.version
            if "status" in data:
                extraction = extracting.extraction_set_status(
                    user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version,
                    status=data["status"],
                )  # fmt: skip
        return Response(serialize_extraction(_readable(review, request.user, study_pk, pk)))


class ExtractionChangeHistorySerializer(serializers.Serializer):
    when = serializers.DateTimeField(read_only=True)
    who = serializers.CharField(read_only=True, help_text="A username, or the worker for values both agreed on.")
    what = serializers.CharField(read_only=True, help_text="The field (and arm), or the outcome-data cell.")
    old = serializers.CharField(read_only=True, help_text="As displayed; empty when there was none.")
    new = serializers.CharField(read_only=True, help_text="As displayed; empty when removed.")


class ExtractionHistoryView(APIView):
    @doc(
        summary="Every change of the extraction's values and outcome data, newest first (at most 500): who, when, "
        "from what to what (whoever may read the extraction)",
        responses={200: ExtractionChangeHistorySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        extraction = _readable(review, request.user, study_pk, pk)
        changes = selectors.value_history(extraction=extraction)
        return Response(ExtractionChangeHistorySerializer(changes, many=True).data)


class ExtractionUpgradeView(APIView):
    @doc(
        summary="Move the extraction to the published version of its form: values of fields and arms that remain "
        "carry over, the old one stays readable (mine; the consensus: editor, owner). The current one if it is "
        "already on the published version",
        request=None,
        responses={200: ExtractionSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, study_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk)
        extraction = _readable(review, request.user, study_pk, pk)
        moved = extracting.extraction_upgrade(user=request.user, review_id=review.pk, extraction_id=extraction.pk)
        return Response(serialize_extraction(_readable(review, request.user, study_pk, moved.pk)))


# --- outcome data ---------------------------------------------------------------------------------------------


def _data_extraction(
    review: Review, user: User | AnonymousUser, study: Study, reviewer: str | None
) -> tuple[Extraction | None, str | None]:
    """The extraction whose outcome data this member reads and writes here, and whose it is (None: consensus):
    a named reviewer's (if the member may read it), else the consensus for an editor or owner, else their own."""
    visible = selectors.extraction_list(review=review, user=user, study=study)
    form = current_form(review)
    if reviewer:
        found = visible.filter(reviewer__username=reviewer, form__name=form.name).order_by("-form__number").first()
        if found is None:
            raise Http404("No extraction of this study by that member that you may read.")
        return found, reviewer
    if selectors.is_editor(review):
        return visible.filter(reviewer__isnull=True, form=form).first(), None
    mine = visible.filter(reviewer_id=user.pk, form__name=form.name).order_by("-form__number").first()
    return mine, user.get_username()


def _data_payload(extraction: Extraction | None, reviewer: str | None) -> dict[str, Any]:
    rows = OutcomeData.objects.filter(extraction=extraction) if extraction else OutcomeData.objects.none()
    return {
        "extraction": extraction.pk if extraction else None,
        "consensus": reviewer is None,
        "reviewer": reviewer,
        "version": extraction.version if extraction else None,
        "rows": OutcomeDataRowSerializer(rows, many=True).data,
    }


def _put_body(data: Any) -> tuple[int | None, list[dict[str, Any]]]:
    body = OutcomeDataPutSerializer(data={"rows": data} if isinstance(data, list) else data)
    body.is_valid(raise_exception=True)
    return body.validated_data.get("version"), body.validated_data["rows"]


class OutcomeDataView(APIView):
    @doc(
        summary="A study's outcome data: a reviewer's own; the consensus for an editor or owner",
        parameters=[
            OpenApiParameter(
                "reviewer", OpenApiTypes.STR, description="A username: that member's rows (if you may read them)."
            )
        ],
        responses={200: OutcomeDataSetSerializer, **ERRORS},
    )
    def get(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk)
        study = _study(review, study_pk)
        extraction, reviewer = _data_extraction(review, request.user, study, request.query_params.get("reviewer"))
        return Response(_data_payload(extraction, reviewer))

    @doc(
        summary="Replace a study's outcome data: a reviewer's own extraction; an editor's or owner's go to the "
        "consensus. A list of rows, or {version, rows} to guard against lost updates (409 when stale)",
        request=OutcomeDataPutSerializer,
        responses={200: OutcomeDataSetSerializer, **ERRORS},
    )
    def put(self, request: Request, review_pk: int, study_pk: int) -> Response:
        review = member_review(request, review_pk)
        selectors.study_get(review=review, study_id=study_pk)  # 404 for a study from elsewhere, whatever the body
        version, rows = _put_body(request.data)
        editor = selectors.is_editor(review)
        with transaction.atomic():  # a refused PUT leaves no new extraction behind
            if editor:
                extraction = extracting.consensus_start(user=request.user, review_id=review.pk, study_id=study_pk)
            else:
                extraction = extracting.extraction_start(user=request.user, review_id=review.pk, study_id=study_pk)
            extraction = extracting.outcome_data_save(
                user=request.user, review_id=review.pk, extraction_id=extraction.pk, version=version, rows=rows,
                replace=True,
            )  # fmt: skip
        return Response(_data_payload(extraction, None if editor else request.user.get_username()))


# --- discrepancies --------------------------------------------------------------------------------------------


class DiscrepancySerializer(serializers.ModelSerializer):
    study_label = serializers.CharField(source="study.label", read_only=True)
    resolved_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    values = serializers.JSONField(read_only=True, help_text="Each reviewer's value by username.")
    resolution = serializers.JSONField(read_only=True, help_text="The consensus value once resolved.")

    class Meta:
        model = Discrepancy
        fields = [
            "id", "study", "study_label", "form", "key", "label", "values", "status", "resolution", "resolved_by",
            "resolved_at", "found_at",
        ]  # fmt: skip
        read_only_fields = fields


class DiscrepancyFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Discrepancy.Status.choices, required=False)
    study = serializers.IntegerField(required=False)


class DiscrepancyResolveSerializer(serializers.Serializer):
    take = serializers.CharField(required=False, help_text="The username of the reviewer whose value to take.")
    value = serializers.JSONField(required=False, allow_null=True, help_text="Or a new value for the consensus.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("take" in attrs) == ("value" in attrs):
            raise serializers.ValidationError("Send either `take` (a reviewer's username) or `value`.")
        return attrs


class DiscrepancyListView(APIView):
    @doc(
        summary="Where the reviewers' extractions differ (editor, owner)",
        parameters=[DiscrepancyFilterSerializer, *PAGE_PARAMETERS],
        responses={200: page_of(DiscrepancySerializer), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        query = DiscrepancyFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        study_id = query.validated_data.get("study")
        study = _study(review, study_id) if study_id is not None else None
        found = selectors.discrepancy_list(review=review, study=study, status=query.validated_data.get("status"))
        paginator = Pagination()
        page = paginator.paginate_queryset(found, request, view=self)
        return paginator.get_paginated_response(DiscrepancySerializer(page, many=True).data)


class DiscrepancyResolveView(APIView):
    @doc(
        summary="Resolve a discrepancy with a reviewer's value or a new one; the consensus gets it (editor, owner)",
        request=DiscrepancyResolveSerializer,
        responses={200: DiscrepancySerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, pk: int) -> Response:
        review = member_review(request, review_pk, Role.EDITOR)
        body = DiscrepancyResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resolved = extracting.discrepancy_resolve(
            user=request.user, review_id=review.pk, discrepancy_id=pk, take=body.validated_data.get("take"),
            value=body.validated_data.get("value"),
        )  # fmt: skip
        return Response(
            DiscrepancySerializer(selectors.discrepancy_get(review=review, discrepancy_id=resolved.pk)).data
        )
