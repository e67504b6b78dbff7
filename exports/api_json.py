"""REST API of the JSON export of a whole review (exports/review_json.py) and its import into a new review
(exports/review_load.py). The document is described in docs/export-json.md."""

from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AnyAccept
from exports import review_json, review_load
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
        "everything; a reviewer while a stage is blinded gets only their own decisions, extractions and "
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


class ReviewImportView(APIView):
    parser_classes = [MultiPartParser, DocumentParser]

    @extend_schema(
        tags=TAGS,
        summary="Import a JSON export (sieve-review/1) into a new review, which you own. Members are matched by "
        "username; a username without an account here gets an inactive account. All or nothing",
        request={
            "multipart/form-data": inline_serializer(
                "ReviewImportUpload", fields={"file": serializers.FileField(help_text="The exported .json file.")}
            ),
            "application/json": OpenApiTypes.OBJECT,
        },
        responses={
            201: inline_serializer(
                "ReviewImported",
                fields={
                    "id": serializers.IntegerField(),
                    "title": serializers.CharField(),
                    "url": serializers.CharField(help_text="The new review's page."),
                    "api_url": serializers.CharField(),
                },
            ),
            400: OpenApiResponse(
                description="The document is not valid: `detail` says what, `path` where (e.g. `records[12].year`)."
            ),
            401: ERRORS[401],
        },
    )
    def post(self, request: Request) -> Response:
        source: Any = request.data
        if not isinstance(source, bytes):
            upload = source.get("file") if isinstance(source, dict) else None
            if upload is None:
                raise ValidationError({"file": "Send the exported .json file as `file`, or the JSON as the body."})
            source = upload
        try:
            review = review_load.review_import(user=request.user, document_or_file=source)
        except review_load.ReviewImportError as exc:
            return Response({"detail": str(exc), "path": exc.path}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "id": review.pk,
                "title": review.title,
                "url": request.build_absolute_uri(reverse("reviews:detail", args=[review.pk])),
                "api_url": request.build_absolute_uri(reverse("api-review-detail", args=[review.pk])),
            },
            status=status.HTTP_201_CREATED,
        )
