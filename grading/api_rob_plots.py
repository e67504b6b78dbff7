"""REST API of the risk-of-bias plots of the consensus judgements (the page's traffic-light and summary
downloads): SVG or PNG, of whole studies or of one outcome's result-level assessments. Editors and owners, and
every member once assessment is not blinded."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from extraction.api import member_review
from grading.api_rob import TAGS
from grading.plot_downloads import MEDIA_TYPES, plot_response
from reviews.api import ERRORS

OUTCOME = OpenApiParameter(
    "outcome", OpenApiTypes.INT, description="One outcome's result-level assessments (default: whole studies)."
)
PLOT_ERRORS = {
    **{code: ERRORS[code] for code in (401, 403)},
    404: OpenApiResponse(description="No such review or outcome, you are not a member, or no consensus to plot."),
}


class _RobPlotView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]
    kind = ""
    fmt = ""

    def get(self, request: Request, review_pk: int) -> HttpResponse:
        review = member_review(request, review_pk)
        return plot_response(
            review=review, kind=self.kind, fmt=self.fmt, outcome_raw=request.query_params.get("outcome")
        )


def _documented(kind: str, fmt: str, summary: str) -> type[_RobPlotView]:
    media = MEDIA_TYPES[fmt]
    body = OpenApiTypes.STR if fmt == "svg" else OpenApiTypes.BINARY

    class View(_RobPlotView):
        @extend_schema(
            tags=TAGS,
            summary=summary,
            parameters=[OUTCOME],
            responses={(200, media): OpenApiResponse(body), **PLOT_ERRORS},
        )
        def get(self, request: Request, review_pk: int) -> HttpResponse:
            return super().get(request, review_pk)

    View.kind, View.fmt = kind, fmt
    View.__name__ = View.__qualname__ = f"Rob{kind.title().replace('_', '')}{fmt.title()}View"
    return View


TrafficLightSvgView = _documented("traffic_light", "svg", "Traffic-light plot of the consensus judgements (SVG)")
TrafficLightPngView = _documented("traffic_light", "png", "Traffic-light plot of the consensus judgements (PNG)")
SummarySvgView = _documented("summary_bar", "svg", "Summary bar plot of the consensus judgements (SVG)")
SummaryPngView = _documented("summary_bar", "png", "Summary bar plot of the consensus judgements (PNG)")
