"""REST API of the RevMan 5 export (the same file as the Export page's download, see exports/rm5.py)."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from exports import rm5
from reviews.api import ERRORS
from reviews.selectors import review_get_for_user


class Rm5ExportView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["exports"],
        summary="RevMan 5 file (.rm5) of the review: included, excluded, awaiting and ongoing studies, "
        "characteristics of included studies, risk of bias and the analyses with Sieve's calculated data. Editors "
        "and owners; reviewers once neither extraction nor risk of bias is blinded",
        responses={
            (200, rm5.CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="A COCHRANE_REVIEW XML document (UTF-8) as RevMan 5 writes it, for RevMan 5, GRADEpro "
                "and R's meta::read.rm5.",
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, review_pk: int) -> HttpResponse:
        review = review_get_for_user(user=request.user, review_id=review_pk)
        return rm5.rm5_response(review=review, user=request.user)
