"""REST API of outcome summaries: the review's analyses (one per comparison and outcome with consensus data), their
settings (editor, owner; with the version read) and their forest and funnel plots.

Who reads: the members `selectors.may_read` lets (editors and owners; everyone once extraction is not blinded),
403 for a blinded reviewer, 404 for an outsider. The numbers are those of the last computation (`result`); while
a change waits for the worker, `status` says `stale` (or `computing`, when a recomputation is queued) and the
numbers are the previous ones: never present them as current."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import PAGE_PARAMETERS, AnyAccept, Pagination, page_of
from reviews.api import ERRORS
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user
from synthesis import selectors, services
from synthesis.models import Analysis
from synthesis.selectors import recomputation_queued, shown_status

Role = Membership.Role
TAGS = ["synthesis"]
VERSION_HELP = "The settings version you read: if someone changed them since, the answer is 409 and nothing changes."
BLINDED = "While extraction is blinded, the outcome summaries are for editors and owners."
SHOWN_STATUS = [
    ("current", "Computed from the consensus data and settings as they are"),
    ("stale", "Out of date: the numbers are from before the last change"),
    ("computing", "Out of date, and a recomputation is on its way"),
]


def doc(**kwargs: Any) -> Any:
    """extend_schema with the synthesis tag."""
    return extend_schema(tags=TAGS, **kwargs)


def readable_review(request: Request, review_pk: int) -> Review:
    """The review if the requester may read its summaries (404 outsider, 403 blinded reviewer)."""
    review = review_get_for_user(user=request.user, review_id=review_pk)
    if not selectors.may_read(review):
        raise PermissionDenied(BLINDED)
    return review


# --- serializers ----------------------------------------------------------------------------------------------
# The summary's numbers are read from `result` as the worker stored it; every one is null while there is none.


def _number(**kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(read_only=True, allow_null=True, **kwargs)


def _count(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(read_only=True, allow_null=True, **kwargs)


class StudyEffectSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]  # a study's label, not the field's
    subgroup = serializers.CharField(read_only=True, allow_blank=True)
    effect = _number(help_text="The study's effect (natural scale: ratios as ratios).")
    ci_low = _number()
    ci_high = _number()
    yi = _number(help_text="The effect on the analysis scale (log for ratios).")
    se = _number(help_text="Its standard error (analysis scale).")
    weight = _number(help_text="Percentage weight in the pooled estimate.")
    excluded = serializers.CharField(
        read_only=True, allow_null=True, allow_blank=True, help_text="Why the study is left out of the pooling."
    )
    corrected = serializers.BooleanField(read_only=True, allow_null=True, help_text="A zero-cell correction applied.")
    events_1 = _count()
    total_1 = _count()
    events_2 = _count()
    total_2 = _count()
    mean_1 = _number()
    sd_1 = _number()
    mean_2 = _number()
    sd_2 = _number()
    estimate = _number(help_text="Generic inverse variance: the estimate given.")
    se_given = _number(help_text="Generic inverse variance: the standard error given.")


class SubgroupSummarySerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True, allow_blank=True)
    estimate = _number()
    ci_low = _number()
    ci_high = _number()
    log_estimate = _number()
    se = _number()
    tau2 = _number()
    i2 = _number()
    q = _number()
    df = _count()
    p_heterogeneity = _number()
    studies = _count()
    participants = _count()


class SubgroupTestSerializer(serializers.Serializer):
    q = _number()
    df = _count()
    p = _number()
    i2 = _number()


class LeaveOneOutSerializer(serializers.Serializer):
    omitted = serializers.CharField(read_only=True, help_text="The study left out.")
    estimate = _number()
    ci_low = _number()
    ci_high = _number()
    tau2 = _number()
    i2 = _number()


def _from_result(name: str, field: type[serializers.Field] = serializers.FloatField, **kwargs: Any) -> Any:
    return field(source=f"result.{name}", read_only=True, allow_null=True, **kwargs)


class AnalysisSerializer(serializers.ModelSerializer):
    comparison = serializers.IntegerField(source="comparison_id", read_only=True)
    outcome = serializers.IntegerField(source="outcome_id", read_only=True)
    estimate = _from_result("estimate", help_text="The pooled effect on its natural scale (ratios as ratios).")
    ci_low = _from_result("ci_low", help_text="95% confidence interval (natural scale).")
    ci_high = _from_result("ci_high")
    log_estimate = _from_result("log_estimate", help_text="The pooled effect on the analysis scale (log ratios).")
    se = _from_result("se", help_text="Its standard error (analysis scale).")
    p = _from_result("p")
    tau2 = _from_result("tau2")
    i2 = _from_result("i2", help_text="I² in percent.")
    q = _from_result("q", help_text="Cochran's Q.")
    df = _from_result("df", serializers.IntegerField)
    p_heterogeneity = _from_result("p_heterogeneity")
    prediction_low = _from_result("prediction_low", help_text="95% prediction interval (random effects).")
    prediction_high = _from_result("prediction_high")
    studies = _from_result("studies", serializers.IntegerField)
    participants = _from_result("participants", serializers.IntegerField)
    per_study = StudyEffectSerializer(source="result.per_study", many=True, read_only=True, allow_null=True)
    notes = serializers.ListField(
        child=serializers.CharField(), source="result.notes", read_only=True, allow_null=True,
        help_text="Zero-cell corrections, exclusions, why the studies are not pooled.",
    )  # fmt: skip
    subgroups = SubgroupSummarySerializer(source="result.subgroups", many=True, read_only=True, allow_null=True)
    subgroup_test = SubgroupTestSerializer(
        source="result.subgroup_test", read_only=True, allow_null=True, help_text="Test for subgroup differences."
    )
    leave_one_out = LeaveOneOutSerializer(source="result.leave_one_out", many=True, read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Analysis
        fields = [
            "id", "comparison", "outcome", "effect_measure", "model", "method", "hksj", "giv_ratio", "pooled",
            "not_pooled_reason", "version", "estimate", "ci_low", "ci_high", "p", "tau2", "i2", "q", "df",
            "p_heterogeneity", "prediction_low", "prediction_high", "studies", "participants", "per_study", "notes",
            "subgroups", "subgroup_test", "leave_one_out", "log_estimate", "se", "status", "computed_at", "error",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=SHOWN_STATUS))
    def get_status(self, analysis: Analysis) -> str:
        return shown_status(analysis, bool(self.context.get("queued")))


@extend_schema_serializer(component_name="Analysis")  # documented as PatchedAnalysisRequest
class AnalysisChangeSerializer(serializers.Serializer):
    effect_measure = serializers.ChoiceField(
        choices=Analysis.Measure.choices, required=False,
        help_text="Dichotomous outcomes: RR, OR or RD; continuous: MD or SMD; generic inverse variance: GIV.",
    )  # fmt: skip
    model = serializers.ChoiceField(choices=Analysis.Model.choices, required=False)
    method = serializers.ChoiceField(
        choices=Analysis.Method.choices, required=False,
        help_text="Fixed effect: MH or IV (and PETO for OR; IV only for MD, SMD and GIV); random effects: DL, REML, "
        "PM or ML. Changing the model without a method picks REML or IV.",
    )  # fmt: skip
    hksj = serializers.BooleanField(required=False, help_text="Hartung-Knapp-Sidik-Jonkman interval (random only).")
    giv_ratio = serializers.BooleanField(required=False, help_text="GIV estimates are log ratios (shown as ratios).")
    pooled = serializers.BooleanField(required=False, help_text="false: show the studies' effects without pooling.")
    not_pooled_reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why pooling is not appropriate (needed with pooled false)."
    )
    version = serializers.IntegerField(help_text=VERSION_HELP)


class AnalysisFilterSerializer(serializers.Serializer):
    comparison = serializers.IntegerField(required=False, help_text="Only this comparison's analyses.")
    outcome = serializers.IntegerField(required=False, help_text="Only this outcome's analyses.")


# --- analyses -------------------------------------------------------------------------------------------------


class AnalysisListView(APIView):
    @doc(
        summary="The review's outcome summaries, by comparison and outcome (editors and owners; every member once "
        "extraction is not blinded)",
        parameters=[AnalysisFilterSerializer, *PAGE_PARAMETERS],
        responses={200: page_of(AnalysisSerializer), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = readable_review(request, review_pk)
        query = AnalysisFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.analysis_list(
            review=review,
            comparison_id=query.validated_data.get("comparison"),
            outcome_id=query.validated_data.get("outcome"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(found, request, view=self)
        context = {"queued": recomputation_queued(review)}
        return paginator.get_paginated_response(AnalysisSerializer(page, many=True, context=context).data)


class AnalysisDetailView(APIView):
    @doc(summary="One outcome summary", responses={200: AnalysisSerializer, **ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> Response:
        review = readable_review(request, review_pk)
        found = selectors.analysis_get(review=review, analysis_id=pk)
        return Response(AnalysisSerializer(found, context={"queued": recomputation_queued(review)}).data)

    @doc(
        summary="Change an outcome summary's settings (editor, owner; send the version you read). The summary is "
        "recomputed: the answer says `computing` until the worker has done it",
        request=AnalysisChangeSerializer,
        responses={200: AnalysisSerializer, **ERRORS},
    )
    def patch(self, request: Request, review_pk: int, pk: int) -> Response:
        review = review_get_for_user(user=request.user, review_id=review_pk, role=Role.EDITOR)
        body = AnalysisChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        version = fields.pop("version")
        services.analysis_update(user=request.user, review_id=review.pk, analysis_id=pk, version=version, **fields)
        found = selectors.analysis_get(review=review, analysis_id=pk)
        return Response(AnalysisSerializer(found, context={"queued": recomputation_queued(review)}).data)


# --- plots ----------------------------------------------------------------------------------------------------

MEDIA_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


class NoPlot(Http404):
    """No plot of this analysis (no result yet, or a funnel plot of fewer than 10 studies): 404 with the reason."""


def plot_title(analysis: Analysis, *, stale: bool) -> str:
    title = f"{analysis.comparison.name}: {analysis.outcome}"
    return f"{title} (out of date, recomputing)" if stale else title


def plot_arguments(analysis: Analysis, kind: str, *, stale: bool) -> dict[str, Any]:
    """What the plot shows beside the result: the names, the outcome's direction and unit."""
    if kind == "funnel":
        return {"title": plot_title(analysis, stale=stale)}
    return {
        "title": plot_title(analysis, stale=stale),
        "intervention": analysis.comparison.intervention,
        "control": analysis.comparison.control,
        "direction": analysis.outcome.direction,
        "unit": analysis.outcome.unit,
    }


def plot_etag(analysis: Analysis, kind: str, fmt: str, arguments: dict[str, Any]) -> str:
    computed = analysis.computed_at.isoformat() if analysis.computed_at else ""
    payload = [kind, fmt, analysis.input_hash, computed, analysis.status, sorted(arguments.items())]
    return '"' + hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()[:32] + '"'


def plot_response(request: Request, analysis: Analysis, *, kind: str, fmt: str) -> HttpResponse:
    """The forest or funnel plot of the analysis's last result (titled as out of date while it is stale)."""
    if analysis.result is None:
        reason = f"Not summarised: {analysis.error}" if analysis.error else "Not summarised yet: the worker is on it."
        raise NoPlot(reason)
    arguments = plot_arguments(analysis, kind, stale=analysis.status != Analysis.Status.CURRENT)
    etag = plot_etag(analysis, kind, fmt, arguments)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponse(status=304, headers=headers)
    from synthesis import plots  # matplotlib loads on the first plot, not in every web process

    drawers: dict[tuple[str, str], Callable[..., bytes]] = {
        ("forest", "svg"): plots.forest_svg,
        ("forest", "png"): plots.forest_png,
        ("funnel", "svg"): plots.funnel_svg,
        ("funnel", "png"): plots.funnel_png,
    }
    try:
        image = drawers[kind, fmt](analysis.result, **arguments)
    except ValueError as exc:
        if kind != "funnel":
            raise
        raise NoPlot(str(exc)) from exc  # fewer than 10 studies with a standard error
    headers["Content-Disposition"] = f'inline; filename="{kind}-{analysis.pk}.{fmt}"'
    return HttpResponse(image, content_type=MEDIA_TYPES[fmt], headers=headers)


class PlotView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]
    kind = "forest"
    fmt = "svg"

    def plot(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        review = readable_review(request, review_pk)
        return plot_response(
            request, selectors.analysis_get(review=review, analysis_id=pk), kind=self.kind, fmt=self.fmt
        )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, NoPlot):  # the reason, not the handler's bare "Not found."
            return Response({"detail": str(exc)}, status=404)
        return super().handle_exception(exc)


PLOT_ERRORS = {
    401: ERRORS[401],
    403: ERRORS[403],
    404: OpenApiResponse(description="No such review or analysis, or no summary to plot yet (`detail` says why)."),
}
FUNNEL_ERRORS = {
    **PLOT_ERRORS,
    404: OpenApiResponse(
        description="No such review or analysis, no summary yet, or fewer than 10 studies (`detail` says why)."
    ),
}
SVG = OpenApiResponse(OpenApiTypes.STR, description="SVG; titled “out of date” while the summary is stale.")
PNG = OpenApiResponse(OpenApiTypes.BINARY, description="PNG; titled “out of date” while the summary is stale.")


class ForestSvgView(PlotView):
    kind, fmt = "forest", "svg"

    @doc(summary="Forest plot (SVG) of an outcome summary", responses={(200, "image/svg+xml"): SVG, **PLOT_ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        return self.plot(request, review_pk, pk)


class ForestPngView(PlotView):
    kind, fmt = "forest", "png"

    @doc(summary="Forest plot (PNG) of an outcome summary", responses={(200, "image/png"): PNG, **PLOT_ERRORS})
    def get(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        return self.plot(request, review_pk, pk)


class FunnelSvgView(PlotView):
    kind, fmt = "funnel", "svg"

    @doc(
        summary="Funnel plot (SVG) of an outcome summary of at least 10 studies",
        responses={(200, "image/svg+xml"): SVG, **FUNNEL_ERRORS},
    )
    def get(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        return self.plot(request, review_pk, pk)


class FunnelPngView(PlotView):
    kind, fmt = "funnel", "png"

    @doc(
        summary="Funnel plot (PNG) of an outcome summary of at least 10 studies",
        responses={(200, "image/png"): PNG, **FUNNEL_ERRORS},
    )
    def get(self, request: Request, review_pk: int, pk: int) -> HttpResponse:
        return self.plot(request, review_pk, pk)
