"""REST API of screening: the next record, decisions, conflicts, agreement, PRISMA, settings.

Blinding is enforced by the selectors these views call and by the serializers, which carry no outcome or
conflict field for a reviewer of a blinded review."""

from typing import Any

from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, AnyAccept, Pagination, page_of
from core.filters import filter_parameters, filter_queryset
from reviews.api import ERRORS
from reviews.models import Membership, Record, Review
from reviews.selectors import review_get_for_user
from screening import selectors, services
from screening.filters import ConflictFilter, DecisionFilter
from screening.models import Choice, Decision, FullText, Outcome, ScreeningSettings, Stage
from screening.prisma import check, render_svg

Role = Membership.Role
STAGE = OpenApiParameter(
    "stage", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Stage.values, description="title_abstract or full_text"
)


def _review(request: Request, review_pk: int, role: str = Role.REVIEWER) -> Review:
    return review_get_for_user(user=request.user, review_id=review_pk, role=role)


def _stage(stage: str) -> str:
    if stage not in Stage.values:
        raise NotFound(f"No screening stage “{stage}”; use {' or '.join(Stage.values)}.")
    return stage


class ScreeningRecordSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="batch.source", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Record
        fields = ["id", "title", "abstract", "authors", "year", "journal", "keywords", "doi", "registry_id", "source"]
        read_only_fields = fields


class DecisionSerializer(serializers.ModelSerializer):
    reviewer: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "record", "stage", "reviewer", "decision", "reason", "note", "created_at", "updated_at"]
        read_only_fields = fields


class DecisionCreateSerializer(serializers.Serializer):
    record = serializers.IntegerField()
    decision = serializers.ChoiceField(choices=Choice.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class DecisionChangeSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Choice.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ConflictSerializer(serializers.ModelSerializer):
    record = ScreeningRecordSerializer(read_only=True)
    decisions = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(
        choices=[("", "Not yet: an open conflict"), *Choice.choices],
        read_only=True,
        help_text="Empty while the conflict is open; the editor's decision once resolved.",
    )
    resolved_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Outcome
        fields = [
            "id", "stage", "status", "record", "decisions", "decision", "reason", "conflict_found_at", "resolved_by",
            "resolved_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(DecisionSerializer(many=True))
    def get_decisions(self, outcome: Outcome) -> list[dict[str, Any]]:
        found = self.context["decisions"].get((outcome.record_id, outcome.stage), [])
        return DecisionSerializer(found, many=True).data  # type: ignore[return-value]


class ResolveSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Choice.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class AgreementSerializer(serializers.Serializer):
    records = serializers.IntegerField(help_text="Records decided by both reviewers.")
    percent_agreement = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa.")
    kappa_ci = serializers.ListField(child=serializers.FloatField(), allow_null=True, help_text="95% CI.")
    pabak = serializers.FloatField(allow_null=True, help_text="Prevalence- and bias-adjusted kappa.")


class SettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ScreeningSettings
        fields = ["reviewers_needed", "blinded", "include_terms", "exclude_terms", "exclusion_reasons", "version"]


class NextRecordView(APIView):
    @extend_schema(
        summary="The next record for me to screen at this stage",
        parameters=[
            STAGE,
            OpenApiParameter(
                "order",
                OpenApiTypes.STR,
                enum=["priority", "plain"],
                description="priority (default): the most likely relevant first once the model is trained "
                "(title/abstract); plain: import order.",
            ),
        ],
        responses={200: ScreeningRecordSerializer, 204: OpenApiResponse(description="Nothing left for you."), **ERRORS},
    )
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        review = _review(request, review_pk)
        plain = request.query_params.get("order") == "plain"
        record = selectors.next_record(review=review, user=request.user, stage=_stage(stage), plain=plain)
        if record is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ScreeningRecordSerializer(record).data)


class DecisionListView(APIView):
    @extend_schema(
        summary="Decisions: mine (a reviewer, while blinded) or everyone's (editor, owner)",
        parameters=[STAGE, *filter_parameters(DecisionFilter), *PAGE_PARAMETERS],
        responses={200: page_of(DecisionSerializer), **ERRORS},
    )
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        review = _review(request, review_pk)
        decisions = selectors.decision_list(review=review, user=request.user, stage=_stage(stage))
        decisions = filter_queryset(request, decisions, DecisionFilter)
        paginator = Pagination()
        page = paginator.paginate_queryset(decisions, request, view=self)
        return paginator.get_paginated_response(DecisionSerializer(page, many=True).data)

    @extend_schema(
        summary="Decide on a record (once; PATCH the decision to change it)",
        parameters=[STAGE],
        request=DecisionCreateSerializer,
        responses={201: DecisionSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, stage: str) -> Response:
        body = DecisionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        made = services.decision_create(
            user=request.user,
            review_id=review_pk,
            record_id=data["record"],
            stage=_stage(stage),
            decision=data["decision"],
            reason=data["reason"],
            note=data["note"],
        )
        return Response(DecisionSerializer(made).data, status=status.HTTP_201_CREATED)


class DecisionDetailView(APIView):
    @extend_schema(
        summary="Change my decision (until the record's outcome is settled: 409 after)",
        parameters=[STAGE],
        request=DecisionChangeSerializer,
        responses={200: DecisionSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, stage: str, pk: int) -> Response:
        body = DecisionChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        changed = services.decision_update(
            user=request.user, review_id=review_pk, decision_id=pk, **body.validated_data
        )
        return Response(DecisionSerializer(changed).data)

    @extend_schema(
        summary="Take my decision back (undo; until the outcome is settled)",
        parameters=[STAGE],
        responses={204: None, **ERRORS},
    )
    def delete(self, request: Request, review_pk: int, stage: str, pk: int) -> Response:
        services.decision_undo(user=request.user, review_id=review_pk, decision_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConflictListView(APIView):
    @extend_schema(
        summary="Open conflicts with both decisions (editor, owner)",
        parameters=[
            OpenApiParameter("stage", OpenApiTypes.STR, enum=Stage.values),
            *filter_parameters(ConflictFilter),
            *PAGE_PARAMETERS,
        ],
        responses={200: page_of(ConflictSerializer), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = _review(request, review_pk, Role.EDITOR)
        stage = request.query_params.get("stage") or None
        if stage:
            _stage(stage)
        paginator = Pagination()
        conflicts = filter_queryset(request, selectors.conflict_list(review=review, stage=stage), ConflictFilter)
        page = paginator.paginate_queryset(conflicts, request, view=self)
        context = {"decisions": selectors.decisions_of(list(page or []))}
        return paginator.get_paginated_response(ConflictSerializer(page, many=True, context=context).data)


class ConflictResolveView(APIView):
    @extend_schema(
        summary="Resolve a conflict (editor, owner); final",
        request=ResolveSerializer,
        responses={200: ConflictSerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, pk: int) -> Response:
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = services.conflict_resolve(
            user=request.user, review_id=review_pk, conflict_id=pk, **body.validated_data
        )
        context = {"decisions": selectors.decisions_of([outcome])}
        return Response(ConflictSerializer(outcome, context=context).data)


class AgreementView(APIView):
    @extend_schema(
        summary="Agreement between the reviewers at this stage (editor, owner)",
        parameters=[STAGE],
        responses={200: AgreementSerializer, **ERRORS},
    )
    def get(self, request: Request, review_pk: int, stage: str) -> Response:
        review = _review(request, review_pk, Role.EDITOR)
        data = selectors.agreement_report(review=review, stage=_stage(stage))
        return Response(data)


class PrismaView(APIView):
    @extend_schema(summary="PRISMA 2020 flow counts", responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def get(self, request: Request, review_pk: int) -> Response:
        review = _review(request, review_pk, Role.EDITOR)
        counts = selectors.prisma_counts(review=review)
        return Response({**counts.__dict__, "problems": check(counts)})


class PrismaSvgView(APIView):
    @extend_schema(summary="PRISMA 2020 flow diagram (SVG)", responses={(200, "image/svg+xml"): OpenApiTypes.STR})
    def get(self, request: Request, review_pk: int) -> HttpResponse:
        review = _review(request, review_pk, Role.EDITOR)
        svg = render_svg(selectors.prisma_counts(review=review), title=review.title)
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        if request.query_params.get("download"):
            response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.svg"'
        return response


class SettingsView(APIView):
    @extend_schema(
        summary="Screening settings (members read; the owner changes them)", responses={200: SettingsSerializer}
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = _review(request, review_pk)
        return Response(SettingsSerializer(services.settings_for(review)).data)

    @extend_schema(
        summary="Change the screening settings (owner; send the version you read)",
        request=SettingsSerializer,
        responses={200: SettingsSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int) -> Response:
        _review(request, review_pk, Role.OWNER)
        body = SettingsSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version", None)
        changed = services.settings_update(user=request.user, review_id=review_pk, version=version, **fields)
        return Response(SettingsSerializer(changed).data)


class FullTextSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="Where members download the PDF (null when there is none).")
    uploaded_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = FullText
        fields = ["record", "filename", "not_retrieved", "note", "uploaded_by", "updated_at", "url"]
        read_only_fields = fields

    def get_url(self, found: FullText) -> str | None:
        if not found.file:
            return None
        return reverse("screening:fulltext", args=[found.review_id, found.record_id])


class FullTextPutSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="The PDF (multipart).")
    not_retrieved = serializers.BooleanField(required=False, help_text="true: the report could not be obtained.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs.get("file")) == bool(attrs.get("not_retrieved")):
            raise serializers.ValidationError("Send either a PDF as `file` or `not_retrieved: true`.")
        return attrs


class FullTextView(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(summary="A record's full text (its PDF or the mark that it was not retrieved)",
                   responses={200: FullTextSerializer, **ERRORS})  # fmt: skip
    def get(self, request: Request, review_pk: int, record_pk: int) -> Response:
        review = _review(request, review_pk)
        found = FullText.objects.filter(review=review, record_id=record_pk).first()
        if found is None:
            raise NotFound("This record has no full text.")
        return Response(FullTextSerializer(found).data)

    @extend_schema(
        summary="Upload a record's PDF, or mark it not retrieved (members; the record must be at full text)",
        request={"multipart/form-data": FullTextPutSerializer, "application/json": FullTextPutSerializer},
        responses={200: FullTextSerializer, **ERRORS},
    )
    def put(self, request: Request, review_pk: int, record_pk: int) -> Response:
        # The review and record before the body: an outsider, or a record of another review, gets the 404 of what
        # does not exist, not a 400 that tells them it does (tests/security/test_access_matrix.py).
        review = review_get_for_user(user=request.user, review_id=review_pk)
        if not Record.objects.filter(review=review, pk=record_pk).exists():
            raise NotFound("No such record in this review.")
        body = FullTextPutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("file"):
            found = services.fulltext_upload(
                user=request.user, review_id=review_pk, record_id=record_pk, file=data["file"]
            )
        else:
            found = services.fulltext_not_retrieved(
                user=request.user, review_id=review_pk, record_id=record_pk, note=data["note"]
            )
        return Response(FullTextSerializer(found).data)

    @extend_schema(summary="Remove a record's PDF or its not-retrieved mark", responses={204: None, **ERRORS})
    def delete(self, request: Request, review_pk: int, record_pk: int) -> Response:
        services.fulltext_remove(user=request.user, review_id=review_pk, record_id=record_pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FullTextPdfView(APIView):
    """The PDF itself, for token clients (the page route `url` in the full-text body needs a browser session)."""

    content_negotiation_class = AnyAccept

    @extend_schema(
        summary="A record's PDF (members)",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF as uploaded."),
            404: OpenApiResponse(description="No such review or record, you are not a member, or no PDF."),
            **{code: ERRORS[code] for code in (401, 403)},
        },
    )
    def get(self, request: Request, review_pk: int, record_pk: int) -> FileResponse:
        review = _review(request, review_pk)
        found = FullText.objects.filter(review=review, record_id=record_pk).exclude(file="").first()
        if found is None:
            raise NotFound("This record has no PDF.")
        response = FileResponse(found.file.open("rb"), content_type="application/pdf", filename=found.filename)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response
