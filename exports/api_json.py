"""REST API of the JSON export of a whole review (exports/review_json.py) and its import into a new review
(exports/review_load.py), which a worker runs (exports/services.py) while the client polls its status. The
document is described in docs/export-json.md."""

from typing import Any

from django.core.files import File
from django.core.files.base import ContentFile
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AnyAccept
from exports import review_json, review_load, selectors, services
from exports.models import ReviewTransfer
from reviews.api import ERRORS
from reviews.selectors import review_get_for_user

TAGS = ["exports"]


class DocumentParser(BaseParser):
    """A JSON body kept as bytes, read up to the import limit: the importer parses it (and says where it is
    wrong), and a body over the limit is refused without being read whole."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:  # type: ignore[override]
        if stream is None:
            return b""
        return stream.read(review_load.max_bytes() + 1)


class JsonExportView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=TAGS,
        summary="The whole review as one JSON document (schema sieve-review/1), streamed. Editors and owners get "
        "everything (owners also the `audit_trail`); a reviewer while a stage is blinded gets only their own "
        "decisions, extractions and "
        "assessments (the left-out keys are listed in `withheld`)",
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="See docs/export-json.md and exports/schema/review-1.schema.json."
            ),
            **{code: ERRORS[code] for code in (401, 404)},
        },
    )
    def get(self, request: Request, review_pk: int) -> StreamingHttpResponse:
        review = review_get_for_user(user=request.user, review_id=review_pk)
        return review_json.json_response(review=review, user=request.user)


@extend_schema_field(
    {"type": "string", "enum": ReviewTransfer.Status.values, "description": "queued, running, succeeded or failed."}
)
class TransferStatusField(serializers.CharField):
    """Documented inline: the same four values as a search import's status, which would otherwise make the schema
    name that enum after neither of them."""


class ReviewTransferSerializer(serializers.ModelSerializer):
    """An import of a JSON export: how far it is, and the new review once it has succeeded."""

    status = TransferStatusField(read_only=True)

    path = serializers.CharField(
        source="error_path", read_only=True, help_text="Where in the document the error is, e.g. `records[12].year`."
    )
    review = serializers.IntegerField(
        source="review_id", read_only=True, allow_null=True, help_text="The new review's id, once it exists."
    )
    review_url = serializers.SerializerMethodField(help_text="The new review's page, once it exists.")
    review_api_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="Poll this for the status.")

    class Meta:
        model = ReviewTransfer
        fields = [
            "id", "url", "status", "progress", "stage", "error", "path", "filename", "size", "review", "review_url",
            "review_api_url", "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _absolute(self, name: str, pk: int | None) -> str | None:
        if pk is None:
            return None
        return self.context["request"].build_absolute_uri(reverse(name, args=[pk]))

    def get_review_url(self, transfer: ReviewTransfer) -> str | None:
        return self._absolute("reviews:detail", transfer.review_id)

    def get_review_api_url(self, transfer: ReviewTransfer) -> str | None:
        return self._absolute("api-review-detail", transfer.review_id)

    def get_url(self, transfer: ReviewTransfer) -> str:
        return self._absolute("api-review-import-detail", transfer.pk) or ""


REFUSED = OpenApiResponse(
    description="Refused at once (no import started): no file, an empty file, one over SIEVE_MAX_IMPORT_MB, or "
    'one that is not a JSON object. `detail` says what, `path` where ("" for the whole document).'
)


class ReviewImportView(APIView):
    parser_classes = [MultiPartParser, DocumentParser]

    @extend_schema(
        tags=TAGS,
        summary="Start importing a JSON export (sieve-review/1) into a new review, which you own. The worker "
        "checks and imports it; poll the transfer's `url` for `progress` and, when it has `succeeded`, the new "
        "`review`, or the `error` and its `path` when it has `failed`. Members are matched by username; a username "
        "without an account here gets an inactive account. All or nothing",
        request={
            "multipart/form-data": inline_serializer(
                "ReviewImportUpload", fields={"file": serializers.FileField(help_text="The exported .json file.")}
            ),
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={202: ReviewTransferSerializer, 400: REFUSED, 401: ERRORS[401]},
    )
    def post(self, request: Request) -> Response:
        source: Any = request.data
        if isinstance(source, bytes):
            upload: File = ContentFile(source, name="review.json")
        else:
            found = source.get("file") if isinstance(source, dict) else None
            if found is None:
                raise ValidationError({"file": "Send the exported .json file as `file`, or the JSON as the body."})
            upload = found
        try:
            transfer = services.review_import_start(user=request.user, upload=upload)
        except review_load.ReviewImportError as exc:
            return Response({"detail": str(exc), "path": exc.path}, status=status.HTTP_400_BAD_REQUEST)
        answer = ReviewTransferSerializer(transfer, context={"request": request}).data
        return Response(answer, status=status.HTTP_202_ACCEPTED, headers={"Location": answer["url"]})


class ReviewTransferView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="How an import of a JSON export is going (yours only): `status` queued, running, succeeded or "
        "failed; `progress` 0-100 and `stage`; the new `review` once succeeded; `error` and `path` once failed",
        responses={200: ReviewTransferSerializer, **{code: ERRORS[code] for code in (401, 404)}},
    )
    def get(self, request: Request, transfer_id: int) -> Response:
        transfer = selectors.review_transfer_get_for_user(user=request.user, transfer_id=transfer_id)
        return Response(ReviewTransferSerializer(transfer, context={"request": request}).data)
