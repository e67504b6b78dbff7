"""The risk-of-bias consensus page (editors and owners): where the assessors' complete assessments of a study (or
of one outcome's result) differ, domain by domain and overall, each assessor's judgement and support side by
side, settled with one assessor's judgement or another one and a note; and the consensus assessment of each
study. htmx swaps the discrepancy after each resolution; without JavaScript the form posts and comes back."""

from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exceptions import ServiceConflict
from extraction.models import Study
from grading import selectors, services
from grading.models import RobAssessment, RobDiscrepancy
from grading.views_rob import INVALID, domain_name, errors_text, judgement_label, spot_name
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

Role = Membership.Role
OVERALL = services.OVERALL


@dataclass
class Side:
    """One assessor's word on the spot: their judgement, the algorithm's proposal, their reason and support."""

    username: str
    judgement: str
    proposed: str = ""
    override_reason: str = ""
    support: str = ""
    answers: str = ""
    assessment: RobAssessment | None = None

    @property
    def label(self) -> str:
        return judgement_label(self.judgement) if self.judgement else "(not judged)"

    @property
    def overridden(self) -> bool:
        return bool(self.proposed and self.judgement and self.proposed != self.judgement)

    @property
    def proposed_label(self) -> str:
        return judgement_label(self.proposed).lower()


@dataclass
class Item:
    discrepancy: RobDiscrepancy
    name: str
    sides: list[Side]
    judgements: list[tuple[str, str]]
    error: str = ""
    note: str = ""
    picked: str = ""
    settled_note: str = ""  # resolved: what the consensus keeps with the judgement (the editor's note)

    @property
    def resolution_label(self) -> str:
        return judgement_label(self.discrepancy.resolution)


@dataclass
class Group:
    study_label: str
    outcome_name: str
    study_id: int
    outcome_id: int | None
    items: list[Item] = field(default_factory=list)


def _assessments(review: Review, user: User | AnonymousUser, study_ids: set[int]) -> dict[tuple, RobAssessment]:
    """Each assessor's assessment of the studies (and, under "", their consensus) by (study, outcome, username)."""
    found = selectors.assessment_list(review=review, user_id=cast(User, user).pk).filter(study_id__in=study_ids)
    return {(a.study_id, a.outcome_id, a.assessor.get_username() if a.assessor else ""): a for a in found}


def _item(d: RobDiscrepancy, tool: str, assessments: dict[tuple, RobAssessment], **kw: Any) -> Item:
    sides = []
    for username, value in sorted(d.values.items()):
        a = assessments.get((d.study_id, d.outcome_id, username))
        side = Side(username, value or "", assessment=a)
        if a is not None and d.domain == OVERALL:
            side.proposed, side.override_reason = a.overall_proposed, a.overall_override_reason
        elif a is not None:
            row = next((j for j in a.judgements.all() if j.domain == d.domain), None)
            if row is not None:
                side.proposed, side.override_reason, side.support = row.proposed, row.override_reason, row.support
                side.answers = " · ".join(f"{q} {answer}" for q, answer in row.answers.items())
        sides.append(side)
    choices = [(v, judgement_label(v)) for v in services.judgements_for(tool)]
    item = Item(d, domain_name(tool, d.domain), sides, choices, **kw)
    agreed = assessments.get((d.study_id, d.outcome_id, ""))
    if d.status == RobDiscrepancy.Status.RESOLVED and d.note:
        item.settled_note = d.note
    elif d.status == RobDiscrepancy.Status.RESOLVED and agreed is not None:
        if d.domain == OVERALL:
            item.settled_note = agreed.overall_override_reason
        else:
            row = next((j for j in agreed.judgements.all() if j.domain == d.domain), None)
            item.settled_note = row.support if row else ""
    return item


def consensus(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    tool = services.settings_for(review).tool
    status = "resolved" if request.GET.get("status") == "resolved" else "open"
    found = list(selectors.discrepancy_list(review=review, status=status).order_by("study__label", "outcome_id", "id"))
    assessments = _assessments(review, request.user, {d.study_id for d in found})
    groups: dict[tuple[int, int | None], Group] = {}
    for d in found:
        key = (d.study_id, d.outcome_id)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(d.study.label, d.outcome.name if d.outcome else "", d.study_id, d.outcome_id)
        group.items.append(_item(d, tool, assessments))
    for group in groups.values():  # the overall judgement last, after the domains it follows from
        group.items.sort(key=lambda i: (i.discrepancy.domain == OVERALL, i.discrepancy.domain))
    context = {"review": review, "status": status, "groups": list(groups.values()), "tool": tool}
    context |= _table(request, review, tool)
    return render(request, "grading/rob_consensus.html", context)


def _table(request: HttpRequest, review: Review, tool: str) -> dict[str, Any]:
    """The consensus of each study (and outcome), its open discrepancies, and the studies without one yet."""
    consensus_rows = list(
        selectors.assessment_list(review=review, user_id=cast(User, request.user).pk).filter(
            assessor__isnull=True, tool=tool
        )
    )
    have = {a.study_id for a in consensus_rows if a.outcome_id is None}
    open_counts = selectors.open_discrepancy_counts(review=review)
    return {
        "open_count": sum(open_counts.values()),
        "consensus_rows": [(a, open_counts.get((a.study_id, a.outcome_id), 0)) for a in consensus_rows],
        "without": list(Study.objects.filter(review=review).exclude(pk__in=have).order_by("label", "id")),
    }


@require_POST
def consensus_start(request: HttpRequest, review_id: int) -> HttpResponse:
    """The consensus assessment of a study (or outcome), opened in the assessment page (editor)."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = services.consensus_start(
        user=request.user,
        review_id=review.pk,
        study_id=request.POST.get("study", ""),
        outcome_id=request.POST.get("outcome") or None,
    )
    return redirect("rob:assess", review_id=review.pk, assessment_id=found.pk)


@require_POST
def resolve(request: HttpRequest, review_id: int, discrepancy_id: int) -> HttpResponse:
    """Take one assessor's judgement (`take`: their username) or another `judgement`, with an optional `note`."""
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    found = selectors.discrepancy_get(review=review, discrepancy_id=discrepancy_id)
    tool = services.settings_for(review).tool
    take = request.POST.get("take", "")
    judgement = "" if take else request.POST.get("judgement", "")
    note = request.POST.get("note", "").strip()
    error = ""
    if not take and not judgement:
        error = "Use one assessor's judgement, or choose another one."
    else:
        try:
            found = services.discrepancy_resolve(
                user=request.user,
                review_id=review.pk,
                discrepancy_id=found.pk,
                take=take,
                judgement=judgement,
                note=note,
            )
        except ValidationError as exc:
            error = errors_text(exc)
        except ServiceConflict as exc:
            error = exc.message
        found.refresh_from_db()
    label = f"{spot_name(found.study, found.outcome)}, {domain_name(tool, found.domain)}"
    if not getattr(request, "htmx", False):
        if error:
            messages.error(request, f"{label}: {error}")
        else:
            messages.success(request, f"{label}: settled as {judgement_label(found.resolution)}.")
        return redirect(reverse("rob:consensus", args=[review.pk]) + f"#rd-{found.pk}")
    assessments = _assessments(review, request.user, {found.study_id})
    item = _item(found, tool, assessments, error=error, note=note if error else "", picked=judgement if error else "")
    context = {"review": review, "item": item, "oob_count": True} | _table(request, review, tool)
    return render(request, "grading/_rob_discrepancy.html", context, status=INVALID if error else 200)
