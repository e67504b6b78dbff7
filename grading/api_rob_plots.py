"""REST API of the risk-of-bias plots of the consensus judgements (the page's traffic-light and summary
downloads): SVG or PNG, of whole studies or of one outcome's result-level assessments. Editors and owners, and
every member once assessment is not blinded."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from core.api import AnyAccept
from extraction.api import member_review
from extraction.models import Outcome
from grading import plots, selectors, services
from grading.api_rob import TAGS
from grading.models import Tool
from grading.plot_cache import rendered
from reviews.api import ERRORS

RENDER = {
    ("traffic_light", "svg"): plots.traffic_light_svg,
    ("traffic_light", "png"): plots.traffic_light_png,
    ("summary", "svg"): plots.summary_bar_svg,
    ("summary", "png"): plots.summary_bar_png,
}
MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
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
        if not selectors.sees_all(review):
            raise PermissionDenied(
                "While risk-of-bias assessment is blinded, only editors and owners see the consensus."
            )
        tool = services.settings_for(review).tool
        outcome = _outcome(review, request.query_params.get("outcome"))
        rows = selectors.plot_rows(
            tool, list(selectors.consensus_list(review=review, outcome_id=outcome.pk if outcome else None))
        )
        if not rows:
            raise Http404("No consensus judgements to plot yet.")
        title = f"Risk of bias ({Tool(tool).label}), {outcome.name if outcome else 'whole studies'}"
        body = rendered(RENDER[(self.kind, self.fmt)], rows=rows, tool=tool, title=title)
        response = HttpResponse(body, content_type=MEDIA_TYPES[self.fmt])
        response["Content-Disposition"] = (
            f'attachment; filename="review-{review.pk}-risk-of-bias-{self.kind.replace("_", "-")}.{self.fmt}"'
        )
        return response


def _outcome(review: Any, raw: str | None) -> Outcome | None:
    if not raw:
        return None
    try:
        return Outcome.objects.get(review=review, pk=int(raw))
    except (Outcome.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such outcome in this review.") from exc


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
SummarySvgView = _documented("summary", "svg", "Summary bar plot of the consensus judgements (SVG)")
SummaryPngView = _documented("summary", "png", "Summary bar plot of the consensus judgements (PNG)")
