"""Outcome-summary pages: the review's analyses, a table per comparison (`analyses`), and one analysis with its
settings form (editors, owners), forest plot, numbers, per-study, subgroup and leave-one-out tables (`analysis`).

A stale analysis keeps its last numbers, shown dimmed under an "Out of date — recomputing…" banner that polls
`analysis_status` every second (htmx); once the worker has stored the new result, that answer swaps the whole
summary in and the polling stops. Who reads: `selectors.may_read` (editors and owners; every member once
extraction is not blinded)."""

from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from core.exceptions import ServiceConflict
from extraction.models import Comparison
from reviews.forms import add_service_errors
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import review_get_for_user
from synthesis import selectors, services
from synthesis.api import BLINDED
from synthesis.models import Analysis
from synthesis.selectors import recomputation_queued, shown_status

Role = Membership.Role
Measure, Model = Analysis.Measure, Analysis.Model
MINUS = "\u2212"
NONE = "–"
FUNNEL_MIN_STUDIES = 10  # fewer and a funnel plot (and its asymmetry) says nothing (Cochrane Handbook 13.3.5)
METHOD_LABEL = {
    "MH": "Mantel-Haenszel", "IV": "Inverse variance", "PETO": "Peto", "DL": "DerSimonian-Laird", "REML": "REML",
    "PM": "Paule-Mandel", "ML": "Maximum likelihood",
}  # fmt: skip
SHORT_METHOD = {"MH": "M-H", "IV": "IV", "PETO": "Peto", "DL": "DL", "REML": "REML", "PM": "PM", "ML": "ML"}


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _readable(request: HttpRequest, review_id: int) -> Review:
    review = review_get_for_user(user=request.user, review_id=review_id)
    if not selectors.may_read(review):
        raise PermissionDenied(BLINDED)
    return review


# --- numbers as read ------------------------------------------------------------------------------------------


def num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return NONE
    text = f"{value:.{digits}f}"
    if 1e-4 <= abs(value) < 10**-digits:  # a tiny ratio or difference keeps two significant digits, not "0.00"
        text = f"{value:.2g}"
    if text.lstrip("-").strip("0.") == "":  # -0.00 is 0.00
        text = text.lstrip("-")
    return text.replace("-", MINUS)


def p_value(value: float | None) -> str:
    if value is None:
        return NONE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def percent(value: float | None, digits: int = 0) -> str:
    return NONE if value is None else f"{value:.{digits}f}%"


def small(value: float | None) -> str:
    """tau² and the like: three decimals, a tiny non-zero one as "< 0.001"."""
    if value is None:
        return NONE
    return "< 0.001" if 0 < value < 0.0005 else num(value, 3)


def interval(estimate: float | None, low: float | None, high: float | None) -> str:
    if estimate is None:
        return NONE
    return f"{num(estimate)} [{num(low)}, {num(high)}]"


def count(value: Any) -> str:
    return NONE if value is None else f"{int(value):,}"


def studies_text(result: dict[str, Any]) -> str:
    """The number of studies in the summary; where a study gives several rows (the doses of a multi-arm trial,
    each against the control), "3 (4 comparisons)": a count of rows alone reads as four trials."""
    rows = result.get("studies")
    labels = {row.get("label") for row in result.get("per_study") or [] if not row.get("excluded")}
    if rows is None or not labels or len(labels) == rows:
        return count(rows)
    return f"{len(labels):,} ({int(rows):,} comparisons)"


def settings_text(measure: str, model: str, method: str, hksj: bool) -> str:
    """E.g. "Risk ratio, random effects (REML, HKSJ)", "Odds ratio, fixed effect (M-H)"."""
    label = Measure(measure).label if measure in Measure.values else measure
    how = Model(model).label.lower() if model in Model.values else model
    details = SHORT_METHOD.get(method, method) + (", HKSJ" if hksj else "")
    return f"{label}, {how} ({details})"


# --- the summary as shown -------------------------------------------------------------------------------------


@dataclass
class StudyRow:
    label: str
    subgroup: str
    cells: list[str]
    effect: str
    weight: str
    excluded: str
    corrected: bool


@dataclass
class SubgroupRow:
    name: str
    studies: str
    participants: str
    effect: str
    tau2: str
    i2: str
    heterogeneity: str


@dataclass
class OmittedRow:
    omitted: str
    effect: str
    tau2: str
    i2: str


@dataclass
class Summary:
    """An analysis's last result, formatted; `state` current | stale | computing."""

    analysis: Analysis
    state: str
    result: dict[str, Any] | None
    measure: str = ""
    pooled: bool = True
    effect: str = ""
    i2: str = ""
    test: str = ""
    heterogeneity: str = ""
    prediction: str = ""
    studies: str = ""
    participants: str = ""
    events: str = ""
    notes: list[str] = field(default_factory=list)
    columns: list[tuple[str, list[str]]] = field(default_factory=list)
    rows: list[StudyRow] = field(default_factory=list)
    subgroups: list[SubgroupRow] = field(default_factory=list)
    subgroup_test: str = ""
    leave_one_out: list[OmittedRow] = field(default_factory=list)
    funnel: bool = False
    forest_alt: str = ""

    @property
    def current(self) -> bool:
        return self.state == "current"

    @property
    def has_corrected(self) -> bool:
        return any(row.corrected for row in self.rows)

    @property
    def plot_version(self) -> str:
        """Changes whenever the plot may (new inputs, renamed outcome, stale or current): the image is reloaded."""
        return f"{self.analysis.generation}-{self.analysis.status}"


def _columns(analysis: Analysis) -> list[tuple[str, list[str]]]:
    """The per-study table's data columns under their group headings."""
    intervention, control = analysis.comparison.intervention, analysis.comparison.control
    if analysis.outcome.type == "dichotomous":
        return [(intervention, ["Events", "Total"]), (control, ["Events", "Total"])]
    if analysis.outcome.type == "continuous":
        return [(intervention, ["Mean", "SD", "Total"]), (control, ["Mean", "SD", "Total"])]
    return [("Given", ["Estimate", "SE"]), (intervention, ["Total"]), (control, ["Total"])]


def _cells(outcome_type: str, study: dict[str, Any]) -> list[str]:
    if outcome_type == "dichotomous":
        names = ["events_1", "total_1", "events_2", "total_2"]
    elif outcome_type == "continuous":
        names = ["mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"]
    else:
        names = ["estimate", "se_given", "total_1", "total_2"]
    return [
        count(study.get(name))
        if name.startswith(("events", "total"))
        else num(study.get(name), 3 if name in ("estimate", "se_given") else 2)
        for name in names
    ]


def _excluded(value: Any) -> str:
    """Why a study is left out of the pooling (stats gives a reason such as "no events in either group")."""
    if not value:
        return ""
    return f"Excluded from pooling: {value}." if isinstance(value, str) else "Excluded from pooling."


def summary_of(analysis: Analysis, queued: bool) -> Summary:
    shown = Summary(analysis=analysis, state=shown_status(analysis, queued), result=analysis.result)
    result = analysis.result
    outcome_type = analysis.outcome.type
    shown.columns = _columns(analysis)
    if result is None:
        return shown
    shown.pooled = bool(result.get("pooled", True)) and result.get("estimate") is not None
    measure = result.get("measure", analysis.effect_measure)
    shown.measure = (
        settings_text(measure, result.get("model", analysis.model), result.get("method", analysis.method),
                      bool(result.get("hksj")))
        if result.get("pooled", True) else Measure(measure).label if measure in Measure.values else str(measure)
    )  # fmt: skip
    shown.effect = interval(result.get("estimate"), result.get("ci_low"), result.get("ci_high"))
    shown.i2 = percent(result.get("i2"))
    if result.get("z") is not None:
        if result.get("t_df") is not None:
            shown.test = f"t = {num(result['z'])}, df = {count(result['t_df'])} (p = {p_value(result.get('p'))})"
        else:
            shown.test = f"Z = {num(result['z'])} (p = {p_value(result.get('p'))})"
    parts = []
    if result.get("tau2") is not None:
        parts.append(f"Tau² = {small(result['tau2'])}")
    if result.get("q") is not None:
        parts.append(
            f"Q = {num(result['q'])}, df = {count(result.get('df'))} (p = {p_value(result.get('p_heterogeneity'))})"
        )
    if result.get("i2") is not None:
        parts.append(f"I² = {percent(result['i2'])}")
    shown.heterogeneity = "; ".join(parts)
    if result.get("prediction_low") is not None:
        shown.prediction = f"{num(result['prediction_low'])} to {num(result.get('prediction_high'))}"
    shown.studies, shown.participants = studies_text(result), count(result.get("participants"))
    if outcome_type == "dichotomous" and result.get("events_1") is not None:
        shown.events = (
            f"{count(result.get('events_1'))}/{count(result.get('total_1'))} versus "
            f"{count(result.get('events_2'))}/{count(result.get('total_2'))}"
        )
    # "Not pooled: <reason>" is shown as the pooled effect; the other notes (corrections, exclusions) as a list.
    shown.notes = [str(n) for n in result.get("notes") or [] if shown.pooled or not str(n).startswith("Not pooled:")]
    for study in result.get("per_study") or []:
        weight = study.get("weight")
        shown.rows.append(
            StudyRow(
                label=str(study.get("label", "")), subgroup=str(study.get("subgroup") or ""),
                cells=_cells(outcome_type, study),
                effect=interval(study.get("effect"), study.get("ci_low"), study.get("ci_high")),
                weight=percent(weight, 1) if weight is not None and shown.pooled else "",
                excluded=_excluded(study.get("excluded")), corrected=bool(study.get("corrected")),
            )
        )  # fmt: skip
    for group in result.get("subgroups") or []:
        shown.subgroups.append(
            SubgroupRow(
                name=str(group.get("name") or "(none)"), studies=count(group.get("studies")),
                participants=count(group.get("participants")),
                effect=interval(group.get("estimate"), group.get("ci_low"), group.get("ci_high")),
                tau2=small(group.get("tau2")), i2=percent(group.get("i2")),
                heterogeneity=(
                    f"Q = {num(group.get('q'))}, df = {count(group.get('df'))} "
                    f"(p = {p_value(group.get('p_heterogeneity'))})"
                    if group.get("q") is not None else NONE
                ),
            )
        )  # fmt: skip
    test = result.get("subgroup_test")
    if test:
        shown.subgroup_test = (
            f"Q = {num(test.get('q'))}, df = {count(test.get('df'))} (p = {p_value(test.get('p'))}); "
            f"I² = {percent(test.get('i2'))}"
        )
    for omitted in result.get("leave_one_out") or []:
        shown.leave_one_out.append(
            OmittedRow(
                omitted=str(omitted.get("omitted", "")),
                effect=interval(omitted.get("estimate"), omitted.get("ci_low"), omitted.get("ci_high")),
                tau2=small(omitted.get("tau2")), i2=percent(omitted.get("i2")),
            )
        )  # fmt: skip
    # As synthesis.plots counts them: the studies with a standard error (an excluded one has none).
    with_se = sum(1 for study in result.get("per_study") or [] if study.get("se") is not None)
    shown.funnel = with_se >= FUNNEL_MIN_STUDIES
    pooled = f"pooled {shown.measure}: {shown.effect}" if shown.pooled else "not pooled"
    out_of_date = "" if shown.current else " Out of date: from before the last change."
    shown.forest_alt = (
        f"Forest plot of {analysis.outcome} for {analysis.comparison.name}: {len(shown.rows)} studies' effects with "
        f"95% confidence intervals, {pooled}.{out_of_date}"
    )
    return shown


# --- the settings form ----------------------------------------------------------------------------------------


class MethodSelect(forms.Select):
    """Each method says which model and measures it fits (static/js/synthesis.js hides the others)."""

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value in services.RANDOM_METHODS:
            option["attrs"]["data-model"] = Model.RANDOM
        elif value:
            option["attrs"]["data-model"] = Model.FIXED
            fits = [m for m in Measure.values if value in services.FIXED_METHODS.get(m, ("IV",))]
            option["attrs"]["data-measures"] = " ".join(fits)
        return option


class AnalysisSettingsForm(forms.Form):
    effect_measure = forms.ChoiceField(label="Effect measure")
    giv_ratio = forms.BooleanField(
        required=False, label="Log ratios",
        help_text="The estimates and standard errors are of log ratios (log RR, log OR, log HR): shown as ratios.",
    )  # fmt: skip
    model = forms.ChoiceField(label="Model", choices=Model.choices, widget=forms.RadioSelect)
    method = forms.ChoiceField(
        label="Method",
        choices=[
            ("Fixed effect", [(m, METHOD_LABEL[m]) for m in ("MH", "IV", "PETO")]),
            ("Random effects (tau² estimator)", [(m, METHOD_LABEL[m]) for m in services.RANDOM_METHODS]),
        ],
        widget=MethodSelect(attrs={"class": "form-select"}),
    )
    hksj = forms.BooleanField(
        required=False, label="Hartung-Knapp-Sidik-Jonkman interval",
        help_text="A t-based confidence interval (random effects): wider and more honest with few studies.",
    )  # fmt: skip
    pooled = forms.BooleanField(required=False, label="Pool the studies")
    not_pooled_reason = forms.CharField(
        required=False, label="Why pooling is not appropriate", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown with the studies' effects instead of a pooled estimate.",
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, outcome_type: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        measures = services.MEASURES_FOR[outcome_type]
        cast(forms.ChoiceField, self.fields["effect_measure"]).choices = [(m, Measure(m).label) for m in measures]
        if len(measures) == 1:
            self.fields["effect_measure"].widget = forms.HiddenInput()
        if outcome_type != "giv":
            del self.fields["giv_ratio"]
        for name in ("effect_measure", "not_pooled_reason"):
            self.fields[name].widget.attrs.setdefault("class", "form-select" if name == "effect_measure" else "")
        self.fields["not_pooled_reason"].widget.attrs["class"] = "form-control"
        for name in ("hksj", "pooled", "giv_ratio"):
            if name in self.fields:
                self.fields[name].widget.attrs["class"] = "form-check-input"
        self.fields["model"].widget.attrs["class"] = "form-check-input"

    @classmethod
    def initial_of(cls, analysis: Analysis) -> dict[str, Any]:
        return {name: getattr(analysis, name) for name in (*services.SETTINGS_FIELDS, "version")}


# --- pages ----------------------------------------------------------------------------------------------------


@dataclass
class ComparisonTable:
    comparison: Comparison
    summaries: list[Summary]


@require_GET
def analyses(request: HttpRequest, review_id: int) -> HttpResponse:
    """The review's analyses, a table per comparison (an htmx poll gets the tables only)."""
    review = _readable(request, review_id)
    queued = recomputation_queued(review)
    found = selectors.analysis_list(review=review)
    tables = [
        ComparisonTable(comparison=group[0].comparison, summaries=[summary_of(a, queued) for a in group])
        for group in (list(items) for _, items in groupby(found, key=lambda a: a.comparison_id))
    ]
    context = {
        "review": review,
        "tables": tables,
        "stale": any(not s.current for t in tables for s in t.summaries),
        "may_read_analyses": True,
    }
    template = "synthesis/_analyses_tables.html" if is_htmx(request) else "synthesis/analyses.html"
    return render(request, template, context)


def _page(
    request: HttpRequest,
    review: Review,
    analysis: Analysis,
    form: AnalysisSettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    editor = role_at_least(review.my_role, Role.EDITOR)
    if editor and form is None:
        form = AnalysisSettingsForm(
            prefix="settings", initial=AnalysisSettingsForm.initial_of(analysis), outcome_type=analysis.outcome.type
        )
    context = {
        "review": review,
        "analysis": analysis,
        "summary": summary_of(analysis, recomputation_queued(review)),
        "form": form if editor else None,
        "settings_text": settings_text(analysis.effect_measure, analysis.model, analysis.method, analysis.hksj),
        "may_read_analyses": True,
    }
    return render(request, "synthesis/analysis.html", context, status=status)


@require_GET
def analysis(request: HttpRequest, review_id: int, analysis_id: int) -> HttpResponse:
    review = _readable(request, review_id)
    return _page(request, review, selectors.analysis_get(review=review, analysis_id=analysis_id))


@require_GET
def analysis_status(request: HttpRequest, review_id: int, analysis_id: int) -> HttpResponse:
    """The banner's poll: while the analysis is stale, 204 (htmx swaps nothing and the banner polls on); once it is
    current, the whole summary in place of the old one, without the banner: the polling stops."""
    review = _readable(request, review_id)
    try:
        found = selectors.analysis_get(review=review, analysis_id=analysis_id)
    except Http404:
        if not is_htmx(request):
            raise
        # The worker removes an analysis whose consensus data is all gone: back to the list, saying so.
        messages.info(request, "That analysis has no consensus data any more, so it was removed.")
        return HttpResponseClientRedirect(reverse("synthesis:analyses", args=[review.pk]))
    if is_htmx(request) and found.status != Analysis.Status.CURRENT:
        return HttpResponse(status=204)  # nothing to swap: the banner stays and polls on
    context = {"review": review, "analysis": found, "summary": summary_of(found, recomputation_queued(review))}
    response = render(request, "synthesis/_summary.html", context)
    if is_htmx(request):
        retarget(response, "#analysis-summary")
        reswap(response, "outerHTML")
    return response


@require_POST
def analysis_settings(request: HttpRequest, review_id: int, analysis_id: int) -> HttpResponse:
    """Save the settings (editor, owner) with the version the form was loaded with; the summary is recomputed."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.analysis_get(review=review, analysis_id=analysis_id)
    form = AnalysisSettingsForm(request.POST, prefix="settings", outcome_type=found.outcome.type)
    status = 200
    if form.is_valid():
        fields = dict(form.cleaned_data)
        version = fields.pop("version")
        try:
            services.analysis_update(
                user=request.user, review_id=review.pk, analysis_id=found.pk, version=version, **fields
            )
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Settings saved. The summary is being recomputed.")
            return redirect("synthesis:analysis", review.pk, found.pk)
    return _page(request, review, found, form=form, status=status)
