"""REST API of certainty (GRADE) and the Summary of Findings.

`GET reviews/{id}/certainty/`: per outcome summary (comparison × outcome) the starting level, each domain's
change, explanation and the proposal from the data with its reasons, and the level (with ⊕ symbols).
`PUT reviews/{id}/certainty/{comparison}/{outcome}/`: an editor's or owner's rating (version 0 for an outcome
never rated); `POST …/sign-off/`; `GET …/history/`; `GET …/risk-of-bias-plot.svg|png` the summary bar plot of
the consensus risk of bias of the outcome's studies, weighted as in the analysis (the certainty page's download).
`GET reviews/{id}/summary-of-findings/` the tables as JSON, or `?format=csv|html|docx` as a download. Who reads:
as the outcome summaries (editors and owners; everyone once extraction is not blinded); a reviewer who may not
read gets 403 saying why."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AnyAccept
from grading import plots, sof
from grading import selectors as rob_selectors
from grading import selectors_certainty as selectors
from grading import services_certainty as services
from grading.models import CERTAINTY_DOMAINS, CERTAINTY_DOWNGRADES, CertaintyRating
from grading.plot_cache import rendered
from grading.selectors_sof import sof_json, sof_tables
from grading.sof_html import to_html
from reviews.api import ERRORS
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

Role = Membership.Role
TAGS = ["certainty"]
FORMATS = ("json", "csv", "html", "docx")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
VERSION_HELP = "The version you read (0 for an outcome not rated yet): if someone saved since, 409 and nothing changes."


def _readable(request: Request, review_pk: int) -> Review:
    review = review_get_for_user(user=request.user, review_id=review_pk)
    if not selectors.may_read(review):
        raise PermissionDenied(selectors.BLINDED)
    return review


# --- serializers ----------------------------------------------------------------------------------------------


class ProposalSerializer(serializers.Serializer):
    change = serializers.IntegerField(
        allow_null=True, help_text="Proposed levels (−2…+2); null: no proposal (the reasons say why)."
    )
    reasons = serializers.ListField(child=serializers.CharField())


class StartProposalSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="Proposed starting level: high or low ('' without studies).")
    reasons = serializers.ListField(child=serializers.CharField())


class DomainSerializer(serializers.Serializer):
    domain = serializers.ChoiceField(choices=list(CERTAINTY_DOMAINS))
    name = serializers.CharField(help_text="The domain as GRADE names it.")
    kind = serializers.ChoiceField(choices=["downgrade", "upgrade"])
    change = serializers.IntegerField(help_text="The team's judgement in levels (0 = not rated down or up).")
    explanation = serializers.CharField(allow_blank=True, help_text="Becomes the Summary of Findings footnote.")
    proposal = ProposalSerializer(
        allow_null=True, help_text="From the data; null for domains the data do not speak to."
    )


class CertaintySerializer(serializers.Serializer):
    analysis = serializers.IntegerField(source="analysis.pk")
    comparison = serializers.IntegerField(source="analysis.comparison_id")
    comparison_name = serializers.CharField(source="analysis.comparison.name")
    outcome = serializers.IntegerField(source="analysis.outcome_id")
    outcome_name = serializers.CharField(source="analysis.outcome.name")
    timepoint = serializers.CharField(source="analysis.outcome.timepoint")
    start = serializers.ChoiceField(choices=CertaintyRating.Start.choices)
    start_proposal = serializers.SerializerMethodField()
    domains = serializers.SerializerMethodField()
    level = serializers.ChoiceField(choices=["high", "moderate", "low", "very_low"])
    symbols = serializers.CharField(help_text="⊕⊕⊕⊕ high … ⊕◯◯◯ very low.")
    level_label = serializers.CharField(source="label", help_text="High, Moderate, Low or Very low.")
    status = serializers.ChoiceField(choices=["not_rated", "draft", "signed_off"])
    version = serializers.IntegerField(help_text="0 until first rated.")
    data_changed = serializers.BooleanField(
        help_text="The outcome summary's data or effect measure changed since the rating was saved (or signed off)."
    )
    importance = serializers.SerializerMethodField()
    imprecision_threshold = serializers.SerializerMethodField()
    assumed_risk = serializers.SerializerMethodField()
    comments = serializers.SerializerMethodField()
    signed_off_by = serializers.SerializerMethodField()
    signed_off_at = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()
    result_note = serializers.CharField(help_text="What the proposals were computed from (not pooled, out of date).")

    @extend_schema_field(StartProposalSerializer(allow_null=True))
    def get_start_proposal(self, view: selectors.CertaintyView) -> dict[str, Any] | None:
        found = view.proposals.get("start")
        return {"start": found.start, "reasons": found.reasons} if found else None

    @extend_schema_field(DomainSerializer(many=True))
    def get_domains(self, view: selectors.CertaintyView) -> list[dict[str, Any]]:
        rows = []
        for domain in CERTAINTY_DOMAINS:
            proposal = view.proposals.get(domain)
            rows.append(
                {
                    "domain": domain,
                    "name": services.DOMAIN_LABELS[domain],
                    "kind": "downgrade" if domain in CERTAINTY_DOWNGRADES else "upgrade",
                    "change": view.changes.get(domain, 0),
                    "explanation": view.explanations.get(domain, ""),
                    "proposal": {"change": proposal.change, "reasons": proposal.reasons} if proposal else None,
                }
            )
        return rows

    def _rating(self, view: selectors.CertaintyView, name: str, default: Any) -> Any:
        return getattr(view.rating, name) if view.rating else default

    @extend_schema_field(serializers.ChoiceField(choices=CertaintyRating.Importance.choices))
    def get_importance(self, view: selectors.CertaintyView) -> str:
        return str(self._rating(view, "importance", CertaintyRating.Importance.CRITICAL))

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_imprecision_threshold(self, view: selectors.CertaintyView) -> float | None:
        return self._rating(view, "imprecision_threshold", None)  # type: ignore[no-any-return]

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_assumed_risk(self, view: selectors.CertaintyView) -> float | None:
        return self._rating(view, "assumed_risk", None)  # type: ignore[no-any-return]

    @extend_schema_field(serializers.CharField())
    def get_comments(self, view: selectors.CertaintyView) -> str:
        return str(self._rating(view, "comments", ""))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_signed_off_by(self, view: selectors.CertaintyView) -> str | None:
        user = view.rating.signed_off_by if view.rating else None
        return user.username if user else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_signed_off_at(self, view: selectors.CertaintyView) -> str | None:
        when = view.rating.signed_off_at if view.rating else None
        return when.isoformat() if when else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_updated_by(self, view: selectors.CertaintyView) -> str | None:
        user = view.rating.updated_by if view.rating else None
        return user.username if user else None


class CertaintySaveSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text=VERSION_HELP)
    start = serializers.ChoiceField(choices=CertaintyRating.Start.choices, required=False)
    changes = serializers.DictField(
        child=serializers.IntegerField(min_value=-2, max_value=2),
        required=False,
        help_text="{domain: levels}: risk_of_bias, inconsistency, indirectness, imprecision (0, −1, −2), "
        "publication_bias (0, −1), large_effect (0, 1, 2), dose_response and confounding (0, 1).",
    )
    explanations = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=2000),
        required=False,
        help_text="{domain: text}; every domain rated down or up needs one. An empty text removes it.",
    )
    importance = serializers.ChoiceField(choices=CertaintyRating.Importance.choices, required=False)
    imprecision_threshold = serializers.FloatField(allow_null=True, required=False)
    assumed_risk = serializers.FloatField(allow_null=True, required=False, min_value=0, max_value=1)
    comments = serializers.CharField(allow_blank=True, required=False, max_length=5000)


class SignOffSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class HistorySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    when = serializers.DateTimeField(source="history_date")
    who = serializers.SerializerMethodField()
    start = serializers.CharField()
    changes = serializers.SerializerMethodField()
    explanations = serializers.DictField(child=serializers.CharField())
    level = serializers.CharField()
    status = serializers.CharField()
    comments = serializers.CharField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_who(self, row: Any) -> str | None:
        return row.history_user.username if row.history_user else None

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_changes(self, row: Any) -> dict[str, int]:
        return {domain: getattr(row, domain) for domain in CERTAINTY_DOMAINS}


# --- views ----------------------------------------------------------------------------------------------------

SPOT = [
    OpenApiParameter("comparison_pk", OpenApiTypes.INT, OpenApiParameter.PATH),
    OpenApiParameter("outcome_pk", OpenApiTypes.INT, OpenApiParameter.PATH),
]


class CertaintyListView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Certainty of the evidence per outcome summary: domains, judgements, explanations, proposals, level",
        parameters=[OpenApiParameter("comparison", OpenApiTypes.INT, description="Only this comparison.")],
        responses={200: CertaintySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int) -> Response:
        review = _readable(request, review_pk)
        views = selectors.certainty_list(review=review, comparison_id=request.query_params.get("comparison"))
        return Response(CertaintySerializer(views, many=True).data)


class CertaintyDetailView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="The certainty of one outcome in one comparison",
        parameters=SPOT,
        responses={200: CertaintySerializer, **ERRORS},
    )
    def get(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> Response:
        review = _readable(request, review_pk)
        view = selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)
        return Response(CertaintySerializer(view).data)

    @extend_schema(
        tags=TAGS,
        summary="Rate the certainty of one outcome (editors, owners); a change of a signed-off rating returns it "
        "to draft",
        parameters=SPOT,
        request=CertaintySaveSerializer,
        responses={200: CertaintySerializer, **ERRORS},
    )
    def put(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> Response:
        review = review_get_for_user(user=request.user, review_id=review_pk, role=Role.EDITOR)
        selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)  # 404 if none
        body = CertaintySaveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        services.certainty_save(
            user=request.user,
            review_id=review.pk,
            comparison_id=comparison_pk,
            outcome_id=outcome_pk,
            version=data.pop("version"),
            changes=data.pop("changes", None),
            explanations=data.pop("explanations", None),
            **data,
        )
        view = selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)
        return Response(CertaintySerializer(view).data)


class CertaintySignOffView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Sign off the certainty of one outcome as it stands at `version` (editors, owners)",
        parameters=SPOT,
        request=SignOffSerializer,
        responses={200: CertaintySerializer, **ERRORS},
    )
    def post(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> Response:
        review = review_get_for_user(user=request.user, review_id=review_pk, role=Role.EDITOR)
        body = SignOffSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.certainty_sign_off(
            user=request.user,
            review_id=review.pk,
            comparison_id=comparison_pk,
            outcome_id=outcome_pk,
            version=body.validated_data["version"],
        )
        view = selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)
        return Response(CertaintySerializer(view).data)


class CertaintyHistoryView(APIView):
    @extend_schema(
        tags=TAGS,
        summary="Every saved version of the certainty of one outcome: who, when, what",
        parameters=SPOT,
        responses={200: HistorySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> Response:
        review = _readable(request, review_pk)
        view = selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)
        if view.rating is None:
            return Response([])
        rows = view.rating.history.filter(version__gt=0).select_related("history_user").order_by("history_id")
        return Response(HistorySerializer(rows, many=True).data)


class SummaryOfFindingsView(APIView):
    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]

    @extend_schema(
        tags=TAGS,
        summary="Summary of Findings tables, one per comparison: JSON, or a CSV, HTML or DOCX download",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), description="Default json."),
            OpenApiParameter("comparison", OpenApiTypes.INT, description="Only this comparison."),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                {"type": "array", "items": {"type": "object", "additionalProperties": {}}},
                description="A list of tables, one per comparison.",
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="UTF-8 with a BOM, formula-safe."),
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, description="A standalone HTML document."),
            (200, DOCX_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="A Word document."),
            **ERRORS,
        },
    )
    def get(self, request: Request, review_pk: int) -> HttpResponse | Response:
        review = _readable(request, review_pk)
        wanted = request.query_params.get("format") or "json"
        if wanted not in FORMATS:
            raise ValidationError({"format": f"Choose one of {', '.join(FORMATS)}."})
        comparison = request.query_params.get("comparison") or None
        if comparison is not None and not comparison.isdigit():
            raise ValidationError({"comparison": "The id of a comparison: a whole number."})
        tables = sof_tables(review=review, comparison_id=comparison)
        if wanted == "json":
            return Response(sof_json(tables))
        return download(review, tables, wanted)


PLOT_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def weighted_by(by_participants: bool) -> str:
    """How the plot's bars are weighted, for its caption (as the certainty page words it)."""
    return "the studies' participants (not pooled)" if by_participants else plots.ANALYSIS_WEIGHTS


class _CertaintyRobPlotView(APIView):
    """The certainty page's risk-of-bias plot download: the same selectors, the same readers (editors and owners;
    everyone once neither extraction nor risk of bias is blinded), 404 when there is no consensus to plot."""

    content_negotiation_class = AnyAccept
    renderer_classes = [JSONRenderer]
    fmt = ""

    def get(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> HttpResponse:
        review = _readable(request, review_pk)
        view = selectors.certainty_get(review=review, comparison_id=comparison_pk, outcome_id=outcome_pk)
        rows, weights, by_participants = selectors.rob_plot(review=review, view=view)
        if not rows:
            raise Http404("No consensus risk of bias to plot for these studies.")
        draw = plots.summary_bar_svg if self.fmt == "svg" else plots.summary_bar_png
        body = rendered(
            draw, rows=rows, weights=weights, tool=rob_selectors.settings_for(review).tool,
            title=f"Risk of bias: {view.analysis.outcome.name}", weighted_by=weighted_by(by_participants),
        )  # fmt: skip
        response = HttpResponse(body, content_type=PLOT_TYPES[self.fmt])
        name = f"risk-of-bias-weighted-review-{review.pk}-outcome-{view.analysis.outcome_id}.{self.fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


PLOT_ERRORS = {
    **{code: ERRORS[code] for code in (401, 403)},
    404: OpenApiResponse(
        description="No such review or outcome summary, you are not a member, or no consensus risk of bias to plot."
    ),
}


def _plot_view(fmt: str) -> type[_CertaintyRobPlotView]:
    body = OpenApiTypes.STR if fmt == "svg" else OpenApiTypes.BINARY

    class View(_CertaintyRobPlotView):
        @extend_schema(
            tags=TAGS,
            summary=f"Risk-of-bias summary bar plot of one outcome's studies, weighted as the analysis ({fmt.upper()})",
            parameters=SPOT,
            responses={(200, PLOT_TYPES[fmt]): OpenApiResponse(body), **PLOT_ERRORS},
        )
        def get(self, request: Request, review_pk: int, comparison_pk: int, outcome_pk: int) -> HttpResponse:
            return super().get(request, review_pk, comparison_pk, outcome_pk)

    View.fmt = fmt
    View.__name__ = View.__qualname__ = f"CertaintyRobPlot{fmt.title()}View"
    return View


CertaintyRobPlotSvgView = _plot_view("svg")
CertaintyRobPlotPngView = _plot_view("png")


def download(review: Review, tables: list[sof.SofTable], wanted: str) -> HttpResponse:
    """The CSV, HTML or DOCX file of these tables (the API's and the page's downloads)."""
    title = f"Summary of findings: {review.title}"
    if wanted == "csv":
        body, kind = sof.to_csv(tables), "text/csv; charset=utf-8"
    elif wanted == "html":
        body, kind = to_html(tables, title=title).encode(), "text/html; charset=utf-8"
    else:
        body, kind = sof.to_docx(tables, title=title), DOCX_TYPE
    response = HttpResponse(body, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="summary-of-findings-review-{review.pk}.{wanted}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    return response
