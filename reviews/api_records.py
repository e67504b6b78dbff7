"""REST API of imports, records and duplicates. Members read; owners and editors import and merge."""

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api import MAX_ID
from reviews import selectors
from reviews.api import ERRORS
from reviews.filters import ImportFilter
from reviews.importers import FORMATS
from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from reviews.services import duplicates as duplicate_services
from reviews.services import imports as import_services


class ImportSerializer(serializers.ModelSerializer):
    errors = serializers.JSONField(  # type: ignore[assignment]
        read_only=True, help_text='[{"line", "record", "message"}]; empty unless failed.'
    )
    warnings = serializers.JSONField(
        read_only=True, help_text='[{"line", "record", "message"}] about single records (e.g. no title); first 500.'
    )
    created_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Import
        fields = [
            "id",
            "source",
            "source_kind",
            "searched_on",
            "strategy",
            "filename",
            "size",
            "format",
            "status",
            "progress",
            "stage",
            "records_found",
            "records_added",
            "duplicates_found",
            "errors",
            "warnings",
            "warning_count",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The export: RIS, PubMed/MEDLINE, Web of Science, EndNote, BibTeX, CSV/TSV, "
        "ClinicalTrials.gov (CSV/JSON) or WHO ICTRP (XML/CSV)."
    )
    source = serializers.CharField(  # type: ignore[assignment]
        max_length=200, help_text="As it should appear in PRISMA, e.g. “MEDLINE (Ovid)”."
    )
    source_kind = serializers.ChoiceField(choices=Import.SourceKind.choices, default=Import.SourceKind.DATABASE)
    searched_on = serializers.DateField(required=False, allow_null=True)
    strategy = serializers.CharField(required=False, allow_blank=True, default="")
    format = serializers.ChoiceField(
        choices=[("", "detect from the content")] + [(k, m.label) for k, m in FORMATS.items()],
        required=False,
        default="",
    )
    confirm_duplicate_file = serializers.BooleanField(
        required=False, default=False, help_text="Import a file that this review already holds (409 otherwise)."
    )


class RecordSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="batch.source", read_only=True)  # type: ignore[assignment]
    import_id = serializers.IntegerField(source="batch_id", read_only=True)
    duplicate_of: serializers.PrimaryKeyRelatedField = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Record
        fields = [
            "id",
            "title",
            "abstract",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "pmid",
            "registry_id",
            "keywords",
            "url",
            "language",
            "publication_type",
            "source",
            "import_id",
            "duplicate_of",
        ]
        read_only_fields = fields


class RecordDetailSerializer(RecordSerializer):
    raw = serializers.JSONField(
        source="raw_as_exported", read_only=True, help_text="Every tag or column exactly as exported: tag -> values."
    )

    class Meta(RecordSerializer.Meta):
        fields = [*RecordSerializer.Meta.fields, "position", "line", "raw"]
        read_only_fields = fields


class DuplicateMemberSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="batch.source", read_only=True)  # type: ignore[assignment]

    class Meta:
        model = Record
        # What a person compares side by side: a record without its long texts.
        fields = [
            f
            for f in RecordSerializer.Meta.fields
            if f not in ("abstract", "keywords", "url", "language", "publication_type", "import_id")
        ]
        read_only_fields = fields


class DuplicateGroupSerializer(serializers.ModelSerializer):
    records = DuplicateMemberSerializer(many=True, read_only=True)
    decided_by: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = DuplicateGroup
        fields = ["id", "status", "score", "reason", "primary", "records", "created_at", "decided_by", "decided_at"]
        read_only_fields = fields


class MergeSerializer(serializers.Serializer):
    records = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=2, max_length=50
    )


class _ReviewScoped:
    request: Any
    kwargs: dict[str, Any]

    def _review(self, role: str = Membership.Role.REVIEWER) -> Review:
        return selectors.review_get_for_user(user=self.request.user, review_id=self.kwargs["review_pk"], role=role)


@extend_schema_view(
    list=extend_schema(summary="Imports of a review", responses={200: ImportSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(
        summary="One import, with its progress (0-100) and errors", responses={200: ImportSerializer, **ERRORS}
    ),
    create=extend_schema(
        summary="Upload a search export (owner or editor); processed by a worker",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={202: ImportSerializer, **ERRORS},
    ),
)
class ImportViewSet(
    _ReviewScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    filterset_class = ImportFilter
    ordering_fields = ["created_at", "source", "records_found", "records_added"]

    def get_queryset(self) -> QuerySet[Import]:
        if getattr(self, "swagger_fake_view", False):
            return Import.objects.none()
        return selectors.import_list(review=self._review())

    def get_object(self) -> Import:
        return selectors.import_get(review=self._review(), import_id=self.kwargs["pk"])

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.EDITOR)
        serializer = ImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = import_services.import_start(user=request.user, review_id=review.pk, **serializer.validated_data)
        batch.refresh_from_db()
        return Response(ImportSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="Records of a review (of succeeded imports)",
        parameters=[
            OpenApiParameter("source", OpenApiTypes.STR, description="Only this source, e.g. “MEDLINE (Ovid)”."),
            OpenApiParameter(
                "duplicates",
                OpenApiTypes.STR,
                enum=["exclude", "only"],
                description="exclude: one record per publication; only: the duplicates.",
            ),
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="Words in title or abstract, or a DOI/PMID/registry id."
            ),
            OpenApiParameter("year", OpenApiTypes.INT),
            OpenApiParameter("import_id", OpenApiTypes.INT),
        ],
        responses={200: RecordSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One record, with every tag as exported (`raw`)", responses={200: RecordDetailSerializer, **ERRORS}
    ),
)
class RecordViewSet(_ReviewScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RecordSerializer
    filter_backends = [OrderingFilter]  # the filters are the selector's (source, duplicates, q, year, import_id)
    ordering_fields = ["id", "year", "title", "journal", "position"]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RecordDetailSerializer if self.action == "retrieve" else RecordSerializer

    def get_queryset(self) -> QuerySet[Record]:
        if getattr(self, "swagger_fake_view", False):
            return Record.objects.none()
        params = self.request.query_params
        duplicates = params.get("duplicates", "")
        if duplicates not in ("", "exclude", "only"):
            raise serializers.ValidationError({"duplicates": "Use “exclude” or “only”."})
        try:
            year = int(params["year"]) if params.get("year") else None
            batch_id = int(params["import_id"]) if params.get("import_id") else None
        except ValueError as exc:
            raise serializers.ValidationError({"year": "year and import_id are whole numbers."}) from exc
        return selectors.record_list(
            review=self._review(),
            source=params.get("source", ""),
            duplicates=duplicates,
            q=params.get("q", ""),
            year=year,
            batch_id=batch_id,
        )

    def get_object(self) -> Record:
        return selectors.record_get(review=self._review(), record_id=self.kwargs["pk"])


@extend_schema_view(
    list=extend_schema(
        summary="Duplicate groups: auto, pending (waiting for a person), confirmed, split",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=list(DuplicateGroup.Status.values))],
        responses={200: DuplicateGroupSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(summary="One duplicate group", responses={200: DuplicateGroupSerializer, **ERRORS}),
)
class DuplicateGroupViewSet(_ReviewScoped, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DuplicateGroupSerializer
    filter_backends = [OrderingFilter]  # the status filter is the selector's
    ordering_fields = ["score", "created_at", "decided_at"]

    def get_queryset(self) -> QuerySet[DuplicateGroup]:
        if getattr(self, "swagger_fake_view", False):
            return DuplicateGroup.objects.none()
        wanted = self.request.query_params.get("status", "")
        if wanted and wanted not in DuplicateGroup.Status.values:
            raise serializers.ValidationError({"status": f"Use one of {', '.join(DuplicateGroup.Status.values)}."})
        return selectors.duplicate_group_list(review=self._review(), status=wanted)

    def get_object(self) -> DuplicateGroup:
        return selectors.duplicate_group_get(review=self._review(), group_id=self.kwargs["pk"])

    @extend_schema(
        summary="Merge records into one publication (owner or editor)",
        request=MergeSerializer,
        responses={200: DuplicateGroupSerializer, **ERRORS},
    )
    @action(detail=False, methods=["post"])
    def merge(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.EDITOR)
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = duplicate_services.duplicates_merge(
            user=request.user, review_id=review.pk, record_ids=serializer.validated_data["records"]
        )
        return Response(DuplicateGroupSerializer(selectors.duplicate_group_get(review=review, group_id=group.pk)).data)

    @extend_schema(
        summary="Keep a group's records apart (owner or editor)",
        request=None,
        responses={200: DuplicateGroupSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def split(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        review = self._review(role=Membership.Role.EDITOR)
        group = duplicate_services.duplicate_group_split(
            user=request.user, review_id=review.pk, group_id=int(kwargs["pk"])
        )
        return Response(DuplicateGroupSerializer(selectors.duplicate_group_get(review=review, group_id=group.pk)).data)
