"""Figures that had only an SVG endpoint: the PRISMA flow diagram as PNG (the SVG is screening's
`/prisma.svg`). Forest, funnel and risk-of-bias plots and the Summary of Findings have SVG/PNG/DOCX endpoints of
their own in synthesis and grading; the Export page lists them all."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from reviews.api import ERRORS
from reviews.models import Membership
from reviews.selectors import review_get_for_user
from screening import selectors
from screening.prisma import render_svg
from screening.prisma_png import render_png


class PrismaPngView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=["exports"],
        summary="PRISMA 2020 flow diagram as PNG (editor, owner); the same drawing as /prisma.svg",
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> HttpResponse:
        review = review_get_for_user(user=request.user, review_id=review_pk, role=Membership.Role.EDITOR)
        svg = render_svg(selectors.prisma_counts(review=review), title=review.title)
        response = HttpResponse(render_png(svg), content_type="image/png")
        response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.png"'
        return response
