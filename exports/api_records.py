"""REST API of the record exports: the review's records with their screening as RIS or CSV, streamed (see
exports/records.py for the tags, columns, statuses and who sees what)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from exports import records
from reviews.api import ERRORS
from reviews.selectors import review_get_for_user
from screening.models import Stage

FILTERS = [
    OpenApiParameter(
        "stage",
        OpenApiTypes.STR,
        enum=list(Stage.values),
        description="Only the records screened at this stage, or (with `status`) those with that status there.",
    ),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=list(records.STATUSES),
        description="The screening status at `stage` (`duplicate` needs no stage). `not_retrieved` and "
        "`not_screened` are full-text statuses; a reviewer gets no `conflict` while screening is blinded.",
    ),
]
WHO = (
    " Any member: owners and editors (and everyone once screening is not blinded) get outcomes and every "
    "reviewer's decisions; a reviewer while screening is blinded gets only their own decisions."
)


def _filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip() for name in ("stage", "status")}


class RisExportView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["exports"],
        summary="Records as RIS, with their screening (for reference managers, and re-importable into Sieve)",
        description="Normalized fields in their standard tags; Sieve's record id in `ID`; the screening in `N1` "
        "and in `C3` (title/abstract status), `C4` (full-text status), `C8` (exclusion reason), `C1` (the record "
        "a duplicate duplicates). Streamed." + WHO,
        parameters=FILTERS,
        responses={
            (200, records.RIS_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR, description="UTF-8 RIS."),
            **ERRORS,
        },
    )
    def get(self, request: Request, review_pk: int) -> StreamingHttpResponse:
        review = review_get_for_user(user=request.user, review_id=review_pk)
        return records.ris_response(review=review, user=request.user, **_filters(request))


class CsvExportView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["exports"],
        summary="Records as CSV, with their screening (a row per record, stable documented columns)",
        description="Columns: " + ", ".join(f"`{c}`" for c in records.CSV_COLUMNS) + ". UTF-8 with a BOM; "
        "cells a spreadsheet would run as a formula are prefixed with `'`. Streamed." + WHO,
        parameters=FILTERS,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="UTF-8 with a BOM, formula-safe."),
            **ERRORS,
        },
    )
    def get(self, request: Request, review_pk: int) -> StreamingHttpResponse:
        review = review_get_for_user(user=request.user, review_id=review_pk)
        return records.csv_response(review=review, user=request.user, **_filters(request))
