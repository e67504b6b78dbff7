"""REST API of the extraction CSV export (the same files as the page's downloads, see extraction/exports.py)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from extraction import exports
from extraction.api import doc, member_review
from reviews.api import ERRORS


class ExtractionExportView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @doc(
        summary="Extraction CSV: consensus (a row per study), raw (a row per reviewer and study) or outcome_data "
        "(long format). A reviewer gets only their own rows while extraction is blinded, and no consensus",
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(exports.KINDS), required=True),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="UTF-8 with a BOM, formula-safe."),
            **ERRORS,
        },
    )
    def get(self, request: Request, review_pk: int) -> StreamingHttpResponse:
        review = member_review(request, review_pk)
        kind = request.query_params.get("kind", "")
        if kind not in exports.KINDS:
            raise ValidationError({"kind": f"Choose one of {', '.join(exports.KINDS)}."})
        return exports.csv_response(review=review, user=request.user, kind=kind)
