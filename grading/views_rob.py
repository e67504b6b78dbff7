"""Risk-of-bias pages: the overview (every study's assessments as this member may see them, the plots of the
consensus), the review's risk-of-bias settings, starting an assessment, and the plot downloads. Thin: parse, call
a service or selector, render. The assessment page is in views_rob_assess.py, the consensus page in
views_rob_consensus.py; what they share (labels of domains and judgements, errors as text) is here."""

import re
from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from extraction import selectors as extraction_selectors
from extraction.models import Outcome, Study
from grading import plot_downloads, plots, selectors, services
from grading.forms_rob import RobSettingsForm
from grading.models import ROB1_DOMAINS, RobAssessment, RobSettings, Tool
from grading.plot_cache import rendered
from reviews.forms import add_service_errors
from reviews.models import Membership, Review, role_at_least
from reviews.selectors import membership_list, review_get_for_user

Role = Membership.Role

# htmx swaps these answers too (static/js/rob.js): 409 a refused stale save, 422 a value that does not fit.
CONFLICT, INVALID = 409, 422

JUDGEMENT_LABELS = {
    "low": "Low",
    "some_concerns": "Some concerns",
    "high": "High",
    "unclear": "Unclear",
    "moderate": "Moderate",
    "serious": "Serious",
    "critical": "Critical",
    "no_information": "No information",
}
ANSWER_LABELS = {
    "Y": "Yes",
    "PY": "Probably yes",
    "PN": "Probably no",
    "N": "No",
    "NI": "No information",
    "NA": "Not applicable",
}
_DS_NAME = "Bias arising from period and carryover effects"


def judgement_label(value: str) -> str:
    return JUDGEMENT_LABELS.get(value, value.replace("_", " ").capitalize())


def domain_name(tool: str, domain: str) -> str:
    """The domain's name in the tool's words, e.g. "D1: Bias arising from the randomisation process"."""
    if domain == services.OVERALL:
        return "Overall"
    if tool == Tool.ROB1:
        index = ROB1_DOMAINS.index(domain) if domain in ROB1_DOMAINS else -1
        return plots.DOMAINS["rob1"][index] if index >= 0 else domain
    if domain == "DS":
        return f"DS: {_DS_NAME}"
    names = plots.DOMAINS.get(tool, ())
    number = int(domain[1:]) if re.fullmatch(r"D\d", domain) else 0
    return f"{domain}: {names[number - 1]}" if 0 < number <= len(names) else domain


def domain_short(tool: str, domain: str) -> str:
    """A short name for tables: "D1", or RoB 1's domain name without its kind of bias."""
    if tool == Tool.ROB1 and domain in ROB1_DOMAINS:
        return plots.DOMAINS["rob1"][ROB1_DOMAINS.index(domain)].split(" (")[0]
    return "Overall" if domain == services.OVERALL else domain


def errors_text(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return " ".join(m for messages_ in exc.message_dict.values() for m in messages_)
    return " ".join(exc.messages)


def is_editor(review: Review) -> bool:
    return role_at_least(review.my_role, Role.EDITOR)


def spot_name(study: Study, outcome: Outcome | None) -> str:
    return f"{study.label} · {outcome.name}" if outcome else study.label


# --- the overview -------------------------------------------------------------------------------------------------


@dataclass
class Spot:
    """One line of the overview: a study (or one outcome's result of it), as this member may see it. Under
    blinding a reviewer sees their own assessment and how many assessors the spot has, nothing else."""

    study: Study
    outcome: Outcome | None
    mine: RobAssessment | None = None
    assessors: list[RobAssessment] = field(default_factory=list)
    consensus: RobAssessment | None = None
    assessor_count: int = 0
    open_count: int = 0
    can_start: bool = False

    @property
    def name(self) -> str:
        return spot_name(self.study, self.outcome)


@dataclass
class Plot:
    kind: str  # "traffic_light" or "summary_bar"
    title: str
    svg: SafeString
    description: str


def _spots(review: Review, user: User, setting: RobSettings) -> list[Spot]:
    studies = list(Study.objects.filter(review=review).order_by("label", "id"))
    visible = list(selectors.assessment_list(review=review, user_id=user.pk).filter(tool=setting.tool))
    counts = selectors.assessor_counts(review=review)
    open_counts = selectors.open_discrepancy_counts(review=review)
    spots: dict[tuple[int, int | None], Spot] = {(s.pk, None): Spot(s, None) for s in studies}
    for a in visible:
        spot = spots.get((a.study_id, a.outcome_id))
        if spot is None:
            spot = spots[(a.study_id, a.outcome_id)] = Spot(a.study, a.outcome)
        if a.is_consensus:
            spot.consensus = a
        else:
            spot.assessors.append(a)
            if a.assessor_id == user.pk:
                spot.mine = a
    for key, spot in spots.items():
        spot.assessor_count = counts.get(key, 0)
        spot.open_count = open_counts.get(key, 0)
        spot.can_start = spot.mine is None and spot.assessor_count < setting.assessors_per_study
    order = {s.pk: i for i, s in enumerate(studies)}
    return sorted(spots.values(), key=lambda s: (order.get(s.study.pk, 0), s.outcome.pk if s.outcome else 0))


def _consensus_rows(review: Review, tool: str, outcome: Outcome | None) -> list[tuple[str, dict[str, str], str]]:
    consensus = selectors.consensus_list(review=review, outcome_id=outcome.pk if outcome else None)
    return selectors.plot_rows(tool, list(consensus))


def _inline(svg: bytes) -> SafeString:
    """The SVG document as an element to put in the page (no XML declaration or doctype). matplotlib escapes the
    text it writes (study labels), so the markup is safe to inline."""
    text = svg.decode("utf-8")
    return mark_safe(text[text.index("<svg") :])  # noqa: S308 - generated by matplotlib, text escaped


def _plots(review: Review, tool: str, outcome: Outcome | None) -> list[Plot]:
    rows = selectors.plot_rows(
        tool, list(selectors.consensus_list(review=review, outcome_id=outcome.pk if outcome else None))
    )
    if not rows:
        return []
    title = plot_downloads.plot_title(tool, outcome)
    return [
        Plot(
            "traffic_light",
            "Traffic-light plot",
            _inline(rendered(plots.traffic_light_svg, rows=rows, tool=tool, title=title)),
            plots.traffic_light_description(rows, tool=tool),
        ),
        Plot(
            "summary_bar",
            "Summary plot",
            _inline(rendered(plots.summary_bar_svg, rows=rows, tool=tool, title=title)),
            plots.summary_bar_description(rows, weights=None, tool=tool),
        ),
    ]


def overview(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    setting = services.settings_for(review)
    user = cast(User, request.user)
    sees_all = selectors.sees_all(review)
    spots = _spots(review, user, setting)
    outcomes = list(extraction_selectors.outcome_list(review=review))
    context: dict[str, Any] = {
        "review": review,
        "setting": setting,
        "spots": spots,
        "sees_all": sees_all,
        "editor": is_editor(review),
        "owner": role_at_least(review.my_role, Role.OWNER),
        "outcomes": outcomes,
        "my_count": sum(1 for s in spots if s.mine),
        "my_complete": sum(1 for s in spots if s.mine and s.mine.status == RobAssessment.Status.COMPLETE),
        "open_total": sum(s.open_count for s in spots),
        "labels": JUDGEMENT_LABELS,
    }
    if sees_all:
        plot_outcome = plot_downloads.plot_outcome(review, request.GET.get("outcome"))
        with_consensus = {s.outcome.pk: s.outcome for s in spots if s.outcome and s.consensus}
        context |= {
            "plots": _plots(review, setting.tool, plot_outcome),
            "plot_outcome": plot_outcome,
            "plot_outcomes": list(with_consensus.values()),
            "plot_query": f"&outcome={plot_outcome.pk}" if plot_outcome else "",
        }
    if is_editor(review):
        context["members"] = [(m.user_id, m.user.get_username()) for m in membership_list(review=review)]
    return render(request, "grading/rob_overview.html", context)


@require_POST
def start(request: HttpRequest, review_id: int) -> HttpResponse:
    """Start (or continue) my assessment of a study or of one outcome's result; an editor may assign another
    member (`assessor`)."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    posted = request.POST
    raw_assessor = (posted.get("assessor") or "").strip()
    try:
        assessment = services.assessment_start(
            user=request.user,
            review_id=review.pk,
            study_id=posted.get("study", ""),
            outcome_id=posted.get("outcome") or None,
            variant=posted.get("variant") or RobAssessment.Variant.ASSIGNMENT,
            assessor_id=int(raw_assessor) if raw_assessor.isdigit() else None,
        )
    except ServiceConflict as exc:
        messages.error(request, exc.message)
        return redirect("rob:overview", review_id=review.pk)
    except ValidationError as exc:
        messages.error(request, errors_text(exc))
        return redirect("rob:overview", review_id=review.pk)
    if assessment.assessor_id != request.user.pk:
        who = assessment.assessor.get_username() if assessment.assessor else "?"
        messages.success(request, f"{who} assesses “{spot_name(assessment.study, assessment.outcome)}”.")
        return redirect("rob:overview", review_id=review.pk)
    return redirect("rob:assess", review_id=review.pk, assessment_id=assessment.pk)


# --- settings -----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    current = services.settings_for(review)
    locked = RobAssessment.objects.filter(review=review).exists()
    initial = {
        "version": current.version,
        "tool": current.tool,
        "assessors_per_study": current.assessors_per_study,
        "blinded": current.blinded,
    }
    form = RobSettingsForm(request.POST or None, initial=initial, tool_locked=locked)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.settings_update(
                user=request.user,
                review_id=review.pk,
                version=data["version"],
                tool=None if locked else data["tool"],
                assessors_per_study=data["assessors_per_study"],
                blinded=data["blinded"],
            )
        except ServiceConflict as exc:
            # The owner's choices stay on the form; saving again (now with the current version) replaces the
            # other change with them, knowingly.
            again = request.POST.copy()
            again["version"] = str(services.settings_for(review).version)
            form = RobSettingsForm(again, initial=initial, tool_locked=locked)
            form.is_valid()
            form.add_error(None, f"{exc.message} Your choices are still below: save again to use them.")
            status = CONFLICT
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Risk-of-bias settings saved.")
            return redirect("rob:settings", review_id=review.pk)
    context = {"review": review, "form": form, "setting": current, "locked": locked}
    return render(request, "grading/rob_settings.html", context, status=status)


# --- plot downloads -----------------------------------------------------------------------------------------------


def _download(request: HttpRequest, review_id: int, kind: str) -> HttpResponse:
    """The plot of the consensus judgements as an attachment (`format` svg or png; `outcome` for one outcome's
    result-level assessments). Editors and owners, and every member once assessment is not blinded."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    fmt = request.GET.get("format", "svg")
    if fmt not in plot_downloads.MEDIA_TYPES:
        return HttpResponse("format must be svg or png.", status=400, content_type="text/plain; charset=utf-8")
    return plot_downloads.plot_response(review=review, kind=kind, fmt=fmt, outcome_raw=request.GET.get("outcome"))


def traffic_light(request: HttpRequest, review_id: int) -> HttpResponse:
    return _download(request, review_id, "traffic_light")


def summary_bar(request: HttpRequest, review_id: int) -> HttpResponse:
    return _download(request, review_id, "summary_bar")
