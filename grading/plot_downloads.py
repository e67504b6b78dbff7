"""The risk-of-bias plots of the consensus judgements as files, for the page's downloads (views_rob) and the API
(api_rob_plots) alike: one rule for who may have them, one title and one file name."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.utils.text import slugify

from extraction.models import Outcome
from grading import plots, selectors, services
from grading.models import Tool
from grading.plot_cache import rendered
from reviews.models import Review

MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}
RENDER = {
    ("traffic_light", "svg"): plots.traffic_light_svg,
    ("traffic_light", "png"): plots.traffic_light_png,
    ("summary_bar", "svg"): plots.summary_bar_svg,
    ("summary_bar", "png"): plots.summary_bar_png,
}
BLINDED = "While risk-of-bias assessment is blinded, only editors and owners see the consensus."


def plot_title(tool: str, outcome: Outcome | None) -> str:
    return f"Risk of bias ({Tool(tool).label}), {outcome.name if outcome else 'whole studies'}"


def plot_outcome(review: Review, raw: str | None) -> Outcome | None:
    """The outcome named by a request's `outcome` (None: whole studies); 404 for one not of this review."""
    if not raw:
        return None
    try:
        return Outcome.objects.get(review=review, pk=int(raw))
    except (Outcome.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise Http404("No such outcome in this review.") from exc


def plot_response(*, review: Review, kind: str, fmt: str, outcome_raw: str | None) -> HttpResponse:
    """`kind` ("traffic_light" or "summary_bar") in `fmt` ("svg" or "png") as an attachment. The review carries
    `my_role`: editors and owners, and every member once assessment is not blinded (PermissionDenied otherwise);
    404 when there is no consensus judgement to plot."""
    if not selectors.sees_all(review):
        raise PermissionDenied(BLINDED)
    tool = services.settings_for(review).tool
    outcome = plot_outcome(review, outcome_raw)
    rows = selectors.plot_rows(
        tool, list(selectors.consensus_list(review=review, outcome_id=outcome.pk if outcome else None))
    )
    if not rows:
        raise Http404("No consensus judgements to plot yet.")
    body = rendered(RENDER[(kind, fmt)], rows=rows, tool=tool, title=plot_title(tool, outcome))
    name = "-".join(
        part
        for part in (slugify(review.title)[:40].strip("-"), "risk-of-bias", kind.replace("_", "-"),
                     slugify(outcome.name)[:40].strip("-") if outcome else "")
        if part
    )  # fmt: skip
    response = HttpResponse(body, content_type=MEDIA_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
