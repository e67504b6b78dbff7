"""Certainty (GRADE) and Summary of Findings pages.

`certainty_list`: per comparison, each outcome summary with its level (⊕ symbols), the domains rated down or up,
and its status. `certainty_rate`: one outcome: the starting level and each domain with the team's change and
explanation beside the proposal from the data and its reasons ("Use the proposal" fills the field; nothing is
applied by itself), the level as it would be, sign-off and history. `sof`: the Summary of Findings tables and
their CSV, HTML and DOCX downloads (`?format=`). Who reads: as the outcome summaries; editors and owners write."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from extraction.forms import _style as style
from grading import grade, plots
from grading import selectors as rob_selectors
from grading import selectors_certainty as selectors
from grading import services_certainty as services
from grading.api_certainty import FORMATS, download, weighted_by
from grading.models import CERTAINTY_DOMAINS, CERTAINTY_DOWNGRADES, CertaintyRating
from grading.plot_cache import rendered
from grading.selectors_sof import sof_tables
from grading.sof_html import table_context
from reviews.forms import add_service_errors
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import review_get_for_user

Role = Membership.Role
MINUS = "\u2212"


def _readable(request: HttpRequest, review_id: int) -> Review:
    review = review_get_for_user(user=request.user, review_id=review_id)
    if not selectors.may_read(review):
        raise PermissionDenied(selectors.BLINDED)
    return review


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else (f"{MINUS}{-value}" if value < 0 else "0")


def _choices(domain: str) -> list[tuple[str, str]]:
    allowed = grade.DOWNGRADE_DOMAINS.get(domain) or grade.UPGRADE_DOMAINS[domain]
    words = {0: "Not serious" if domain in CERTAINTY_DOWNGRADES else "No"}
    words |= {-1: "Serious (−1)", -2: "Very serious (−2)", 1: "Rate up one level (+1)", 2: "Rate up two levels (+2)"}
    if domain == "publication_bias":
        words |= {0: "Undetected", -1: "Strongly suspected (−1)"}
    return [(str(v), words[v]) for v in allowed]


class CertaintyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    start = forms.ChoiceField(choices=CertaintyRating.Start.choices, widget=forms.RadioSelect, label="Starting level")
    importance = forms.ChoiceField(choices=CertaintyRating.Importance.choices, label="Importance of the outcome")
    imprecision_threshold = forms.FloatField(
        required=False,
        label="Imprecision threshold",
        help_text="On the effect scale (e.g. 0.8 for a ratio, or 1 point for a mean difference); empty: the line of "
        "no effect and GRADE's appreciable benefit or harm.",
    )
    assumed_risk = forms.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        label="Risk with the comparison (0 to 1)",
        help_text="For the absolute effects per 1,000; empty: the control groups' risk in the studies.",
    )
    comments = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for domain in CERTAINTY_DOMAINS:
            label = services.DOMAIN_LABELS[domain]
            self.fields[domain] = forms.TypedChoiceField(choices=_choices(domain), coerce=int, label=label)
            self.fields[f"explanation_{domain}"] = forms.CharField(
                required=False,
                max_length=2000,
                label=f"Why ({label.lower()})",
                widget=forms.Textarea(attrs={"rows": 4}),
            )
        style(self)

    def domain_rows(self) -> list[dict[str, Any]]:
        return [
            {"domain": d, "field": self[d], "explanation": self[f"explanation_{d}"], "down": d in CERTAINTY_DOWNGRADES}
            for d in CERTAINTY_DOMAINS
        ]


def _initial(view: selectors.CertaintyView) -> dict[str, Any]:
    rating = view.rating
    initial: dict[str, Any] = {
        "version": view.version,
        "start": view.start,
        "importance": rating.importance if rating else CertaintyRating.Importance.CRITICAL,
        "imprecision_threshold": rating.imprecision_threshold if rating else None,
        "assumed_risk": rating.assumed_risk if rating else None,
        "comments": rating.comments if rating else "",
    }
    for domain in CERTAINTY_DOMAINS:
        initial[domain] = str(view.changes.get(domain, 0))
        initial[f"explanation_{domain}"] = view.explanations.get(domain, "")
    if not view.rated and (start := view.proposals.get("start")) and start.start:
        initial["start"] = start.start
    return initial


def certainty_list(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _readable(request, review_id)
    views = selectors.certainty_list(review=review)
    groups: dict[int, dict[str, Any]] = {}
    for view in views:
        comparison = view.analysis.comparison
        group = groups.setdefault(comparison.pk, {"comparison": comparison, "rows": []})
        rated = [
            f"{services.DOMAIN_LABELS[d]} {_signed(view.changes[d])}" for d in CERTAINTY_DOMAINS if view.changes[d]
        ]
        group["rows"].append({"view": view, "rated": rated})
    return render(
        request,
        "grading/certainty_list.html",
        {
            "review": review,
            "groups": list(groups.values()),
            "may_edit": role_at_least(review.my_role, Role.EDITOR),
            "may_read_analyses": True,
            "may_read_certainty": True,
        },
    )


@require_http_methods(["GET", "POST"])
def certainty_rate(request: HttpRequest, review_id: int, comparison_id: int, outcome_id: int) -> HttpResponse:
    review = _readable(request, review_id)
    view = selectors.certainty_get(review=review, comparison_id=comparison_id, outcome_id=outcome_id)
    may_edit = role_at_least(review.my_role, Role.EDITOR)
    here = reverse("certainty:rate", args=[review.pk, comparison_id, outcome_id])
    form = CertaintyForm(initial=_initial(view))
    status = 200
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("Editors and owners rate the certainty of the evidence.")
        form = CertaintyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.certainty_save(
                    user=request.user,
                    review_id=review.pk,
                    comparison_id=comparison_id,
                    outcome_id=outcome_id,
                    version=data["version"],
                    changes={d: data[d] for d in CERTAINTY_DOMAINS},
                    explanations={d: data[f"explanation_{d}"] for d in CERTAINTY_DOMAINS},
                    start=data["start"],
                    importance=data["importance"],
                    imprecision_threshold=data["imprecision_threshold"],
                    assumed_risk=data["assumed_risk"],
                    comments=data["comments"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            except ServiceConflict as exc:
                # Keep what was typed, now against the current version: the message says what changed, so the
                # editor compares and saves again (or reloads to drop the change).
                form = CertaintyForm({**request.POST.dict(), "version": str(view.version)})
                form.is_valid()
                form.add_error(None, f"{exc.message} Your entries are kept below: check them against the change.")
                status = 409
            else:
                messages.success(request, f"Certainty of {view.analysis.outcome.name} saved.")
                return redirect(here)
        if status == 200:
            status = 400
    history = []
    if view.rating is not None:
        history = list(
            view.rating.history.filter(version__gt=0).select_related("history_user").order_by("-history_id")[:50]
        )
    return render(
        request,
        "grading/certainty_rate.html",
        {
            "review": review,
            "view": view,
            "form": form,
            "may_edit": may_edit,
            "rows": _rows(view, form),
            "history": [_history_row(row) for row in history],
            "rob_plot": _rob_plot(review, view),
            "may_read_analyses": True,
            "may_read_certainty": True,
        },
        status=status,
    )


def _rob_plot(review: Review, view: selectors.CertaintyView) -> dict[str, Any] | None:
    """The summary bar plot of the consensus risk of bias of this outcome's studies, weighted as the proposal."""
    rows, weights, by_participants = selectors.rob_plot(review=review, view=view)
    if not rows:
        return None
    tool = rob_selectors.settings_for(review).tool
    title = f"Risk of bias: {view.analysis.outcome.name}"
    basis = weighted_by(by_participants)
    drawn = rendered(plots.summary_bar_svg, rows=rows, weights=weights, tool=tool, title=title, weighted_by=basis)
    svg = drawn.decode("utf-8")
    return {
        "svg": mark_safe(svg[svg.index("<svg") :]),  # noqa: S308 - matplotlib's output, its text escaped
        "description": plots.summary_bar_description(rows, weights=weights, tool=tool, weighted_by=basis),
        "by_participants": by_participants,
    }


def certainty_rob_plot(request: HttpRequest, review_id: int, comparison_id: int, outcome_id: int) -> HttpResponse:
    """The weighted summary bar plot as a download (`?format=svg|png`)."""
    review = _readable(request, review_id)
    view = selectors.certainty_get(review=review, comparison_id=comparison_id, outcome_id=outcome_id)
    rows, weights, by_participants = selectors.rob_plot(review=review, view=view)
    if not rows:
        raise Http404("No consensus risk of bias to plot for these studies.")
    wanted = request.GET.get("format", "svg")
    if wanted not in ("svg", "png"):
        raise Http404("Plots come as SVG or PNG.")
    tool = rob_selectors.settings_for(review).tool
    title = f"Risk of bias: {view.analysis.outcome.name}"
    draw = plots.summary_bar_svg if wanted == "svg" else plots.summary_bar_png
    response = HttpResponse(
        rendered(draw, rows=rows, weights=weights, tool=tool, title=title, weighted_by=weighted_by(by_participants)),
        content_type="image/svg+xml" if wanted == "svg" else "image/png",
    )
    name = f"risk-of-bias-weighted-review-{review.pk}-outcome-{view.analysis.outcome_id}.{wanted}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _add_errors(form: CertaintyForm, exc: ValidationError) -> None:
    """The services name explanations `explanations.<domain>`; the form calls them `explanation_<domain>`."""
    if hasattr(exc, "error_dict"):
        renamed = {
            key.replace("explanations.", "explanation_").replace("changes.", ""): value
            for key, value in exc.message_dict.items()
        }
        add_service_errors(form, ValidationError(renamed))
    else:
        add_service_errors(form, exc)


def _rows(view: selectors.CertaintyView, form: CertaintyForm) -> list[dict[str, Any]]:
    rows = []
    for item in form.domain_rows():
        proposal = view.proposals.get(item["domain"])
        item["proposal"] = proposal
        item["proposal_text"] = _signed(proposal.change) if proposal and proposal.change is not None else ""
        item["current"] = view.changes.get(item["domain"], 0)
        item["current_text"] = _signed(item["current"])
        item["explanation_text"] = view.explanations.get(item["domain"], "")
        rows.append(item)
    return rows


def _history_row(row: Any) -> dict[str, Any]:
    changes = [f"{services.DOMAIN_LABELS[d]} {_signed(getattr(row, d))}" for d in CERTAINTY_DOMAINS if getattr(row, d)]
    return {
        "version": row.version,
        "when": row.history_date,
        "who": row.history_user.username if row.history_user else "—",
        "start": row.start,
        "changes": changes,
        "level": grade.LEVEL_LABELS.get(row.level, row.level),
        "status": row.status,
    }


@require_POST
def certainty_sign_off(request: HttpRequest, review_id: int, comparison_id: int, outcome_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    here = reverse("certainty:rate", args=[review.pk, comparison_id, outcome_id])
    try:
        rating = services.certainty_sign_off(
            user=request.user,
            review_id=review.pk,
            comparison_id=comparison_id,
            outcome_id=outcome_id,
            version=request.POST.get("version"),  # type: ignore[arg-type]
        )
    except (ValidationError, ServiceConflict) as exc:
        text = exc.message if isinstance(exc, ServiceConflict) else " ".join(exc.messages)
        messages.error(request, f"Not signed off: {text}")
    else:
        messages.success(request, f"Certainty signed off: {grade.LEVEL_LABELS[rating.level]}.")
    return redirect(here)


def sof(request: HttpRequest, review_id: int) -> HttpResponse:
    review = _readable(request, review_id)
    wanted = request.GET.get("format", "")
    tables = sof_tables(review=review)
    if wanted:
        if wanted not in FORMATS or wanted == "json":
            messages.error(request, "Download the Summary of Findings as CSV, HTML or DOCX.")
            return redirect(reverse("certainty:sof", args=[review.pk]))
        return download(review, tables, wanted)
    context = {
        "review": review,
        "tables": tables,
        "may_read_analyses": True,
        "may_read_certainty": True,
        **table_context(),
    }
    return render(request, "grading/sof.html", context)
