"""The assessment page: one assessor's risk-of-bias assessment of a study (or of one outcome's result), or (for an
editor) the consensus; and its history.

Each domain is one section of one form. htmx posts the form when an answer, the judgement, the reason or the
support of a domain changes, with `domain` naming it and the page's `version`; `domain_save` saves that domain
and answers with its section (the questions the skip logic now asks, the algorithm's proposal and its reason,
"Saved" or the problem), the page's new version, the overall section and the head, out of band. The form queues
its requests, so quick answers never race into a spurious conflict.

RoB 2's service saves a domain only with every question the skip logic asks answered: until then the section
shows what is still needed ("Not saved yet") and keeps the answers on the page. A stale version (another tab, an
editor) is refused: 409, what changed at the top of the page, the user's input kept where it was.
Without JavaScript each domain's Save button posts the whole form to `domain_save` and comes back."""

from dataclasses import dataclass, field
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from core.exceptions import ServiceConflict
from extraction.models import StudyReport
from grading import rob, selectors, services
from grading.models import RobAssessment, RobDiscrepancy, RobJudgement, Tool
from grading.views_rob import (
    ANSWER_LABELS,
    CONFLICT,
    INVALID,
    domain_name,
    errors_text,
    is_editor,
    judgement_label,
    spot_name,
)
from reviews.models import Review
from reviews.selectors import review_get_for_user

OVERALL = services.OVERALL
CLOSED = "This assessment was marked complete since you opened it (the comparison has read it): reopen it to change it."
KEYS = {"Y": "1", "PY": "2", "PN": "3", "N": "4", "NI": "5", "NA": "6"}


def _version(data: QueryDict) -> int | None:
    raw = str(data.get("version", "") or "").strip()
    return int(raw) if raw.isdigit() else None


# --- what the page shows ------------------------------------------------------------------------------------------


@dataclass
class QuestionView:
    domain: str
    id: str
    text: str
    allowed: list[tuple[str, str, str]]  # value, label, key
    answer: str = ""
    needed_when: str = ""

    @property
    def dom_id(self) -> str:
        return f"q-{self.domain}-{self.id.replace('.', '_')}"

    @property
    def name(self) -> str:
        return f"{self.domain}-q-{self.id}"

    @property
    def answer_label(self) -> str:
        return ANSWER_LABELS.get(self.answer, self.answer)


@dataclass
class DomainView:
    code: str
    name: str
    judgements: list[tuple[str, str]]
    questions: list[QuestionView] = field(default_factory=list)
    asks_questions: bool = False
    proposal: str = ""
    reason: str = ""
    still_needed: str = ""  # why there is no proposal yet (RoB 2: the next question the skip logic needs)
    judgement: str = ""
    override_reason: str = ""
    support: str = ""
    saved: bool = False  # the domain has a saved judgement
    status: str = ""
    status_kind: str = ""  # "saved", "pending" or "error"
    reason_error: str = ""
    flagged: str = ""  # on the consensus: an open discrepancy here, the assessors' judgements

    @property
    def overridden(self) -> bool:
        return bool(self.proposal and self.judgement and self.judgement != self.proposal)

    @property
    def proposal_label(self) -> str:
        return judgement_label(self.proposal)

    @property
    def judgement_label(self) -> str:
        return judgement_label(self.judgement)


@dataclass
class OverallView:
    judgements: list[tuple[str, str]]
    proposal: str = ""
    reason: str = ""
    judgement: str = ""
    override_reason: str = ""
    status: str = ""
    status_kind: str = ""
    reason_error: str = ""
    flagged: str = ""

    @property
    def overridden(self) -> bool:
        return bool(self.judgement and self.judgement != self.proposal)

    @property
    def proposal_label(self) -> str:
        return judgement_label(self.proposal)

    @property
    def judgement_label(self) -> str:
        return judgement_label(self.judgement)


def _judgement_choices(tool: str) -> list[tuple[str, str]]:
    return [(value, judgement_label(value)) for value in services.judgements_for(tool)]


def _questions(assessment: RobAssessment, domain: str, answers: dict[str, str]) -> tuple[list[Any], bool]:
    """The questions the skip logic asks given the answers so far, and whether the tool asks questions at all:
    RoB 2 only. RoB 1 and ROBINS-I are judged per domain (grading/rob.py: ROBINS-I 2016 publishes no domain
    algorithm, so the assessor's judgement stands)."""
    if assessment.tool == Tool.ROB2:
        return rob.rob2_questions(domain, answers, variant=assessment.variant), True
    return [], False


def words(reason: str) -> str:
    """The algorithm's reason in the reviewer's words ("some_concerns" → "some concerns")."""
    return reason.replace("some_concerns", "some concerns").replace("no_information", "no information")


def _proposal(assessment: RobAssessment, domain: str, answers: dict[str, str]) -> tuple[str, str, str]:
    """(proposal, its reason, what is still needed) from the answers to the questions asked."""
    if assessment.tool != Tool.ROB2:
        return "", "", ""
    try:
        result = rob.rob2_domain(domain, answers, variant=assessment.variant)
    except rob.RobInputError as exc:
        return "", "", str(exc)
    return result.judgement, words(result.reason), ""


def _domain_view(
    assessment: RobAssessment,
    domain: str,
    *,
    answers: dict[str, str],
    judgement: str,
    override_reason: str,
    support: str,
    saved: bool,
) -> DomainView:
    asked, asks = _questions(assessment, domain, answers)
    shown = {q.id: answers[q.id] for q in asked if q.id in answers}
    view = DomainView(
        domain, domain_name(assessment.tool, domain), _judgement_choices(assessment.tool), asks_questions=asks
    )
    for q in asked:
        allowed = [(v, ANSWER_LABELS.get(v, v), KEYS.get(v, "")) for v in q.allowed]
        view.questions.append(QuestionView(domain, q.id, q.text, allowed, shown.get(q.id, ""), q.needed_when))
    if asks:
        view.proposal, view.reason, view.still_needed = _proposal(assessment, domain, shown)
        if not shown:
            view.still_needed = ""  # untouched: the template invites the answers instead
    view.judgement, view.override_reason, view.support, view.saved = judgement, override_reason, support, saved
    return view


def _saved_view(assessment: RobAssessment, domain: str, row: RobJudgement | None) -> DomainView:
    if row is None:
        return _domain_view(assessment, domain, answers={}, judgement="", override_reason="", support="", saved=False)
    return _domain_view(
        assessment,
        domain,
        answers=dict(row.answers or {}),
        judgement=row.judgement,
        override_reason=row.override_reason,
        support=row.support,
        saved=True,
    )


def _overall_view(assessment: RobAssessment, judged: dict[str, str]) -> OverallView:
    view = OverallView(
        _judgement_choices(assessment.tool),
        proposal=assessment.overall_proposed,
        judgement=assessment.overall,
        override_reason=assessment.overall_override_reason,
    )
    domains = services.domains_for(assessment.tool, assessment.study)
    missing = [d for d in domains if d not in judged]
    if missing:
        view.reason = f"Once every domain is judged ({', '.join(missing)} not yet)."
    elif assessment.tool == Tool.ROB2:
        view.reason = words(_safe_reason(lambda: rob.rob2_overall(judged).reason))
    elif assessment.tool == Tool.ROBINS:
        view.reason = words(_safe_reason(lambda: rob.robins_overall(judged).reason))
    else:
        view.reason = (
            "RoB 1 has no published overall rule: high if any domain is high, low if all are low, else unclear."
        )
    return view


def _safe_reason(make: Any) -> str:
    try:
        return str(make())
    except rob.RobInputError as exc:
        return str(exc)


@dataclass
class Head:
    """The page's head: status, progress and the button that marks complete or reopens."""

    assessment: RobAssessment
    judged: int
    total: int
    chips: list[tuple[str, str]]  # each domain and its judgement ("" not yet), linking to it
    missing: list[tuple[str, str]] = field(default_factory=list)  # domain code ("overall") and name, to link
    error: str = ""


def _head(
    assessment: RobAssessment,
    judged: dict[str, str],
    *,
    error: str = "",
    missing: list[tuple[str, str]] | None = None,
) -> Head:
    domains = services.domains_for(assessment.tool, assessment.study)
    chips = [(d, judged.get(d, "")) for d in domains]
    return Head(assessment, sum(1 for d in domains if d in judged), len(domains), chips, missing or [], error)


def _flags(assessment: RobAssessment) -> dict[str, str]:
    """On the consensus: each open discrepancy's assessors' judgements, by domain (shown at the domain)."""
    if not assessment.is_consensus:
        return {}
    found = RobDiscrepancy.objects.filter(
        services.at_outcome(assessment.outcome_id), study_id=assessment.study_id, status=RobDiscrepancy.Status.OPEN
    )
    return {
        d.domain: " · ".join(
            f"{name}: {judgement_label(value) or '(none)'}" for name, value in sorted(d.values.items())
        )
        for d in found
    }


def can_write(review: Review, user: Any, assessment: RobAssessment) -> bool:
    if assessment.is_consensus:
        return is_editor(review)
    return assessment.assessor_id == user.pk


def _load(
    request: HttpRequest, review_id: int, assessment_id: int, *, write: bool = False
) -> tuple[Review, RobAssessment]:
    """The assessment as this member may read it (blinding: 404 otherwise); `write`: 404 unless they may write it
    (their own, or the consensus for an editor), as the services answer."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    user_id = cast(User, request.user).pk
    assessment = selectors.assessment_get(review=review, user_id=user_id, assessment_id=assessment_id)
    if write and not can_write(review, request.user, assessment):
        raise Http404("No such assessment in this review.")
    return review, assessment


def _rows(assessment: RobAssessment) -> dict[str, RobJudgement]:
    return {j.domain: j for j in RobJudgement.objects.filter(assessment=assessment)}


def _judged(rows: dict[str, RobJudgement]) -> dict[str, str]:
    return {domain: row.judgement for domain, row in rows.items()}


def _context(
    request: HttpRequest,
    review: Review,
    assessment: RobAssessment,
    *,
    overlay: dict[str, DomainView] | None = None,
    head_error: str = "",
    missing: list[tuple[str, str]] | None = None,
    alert: str = "",
) -> dict[str, Any]:
    rows = _rows(assessment)
    flags = _flags(assessment)
    domains = []
    for code in services.domains_for(assessment.tool, assessment.study):
        view = (overlay or {}).get(code) or _saved_view(assessment, code, rows.get(code))
        view.flagged = flags.get(code, "")
        domains.append(view)
    overall = _overall_view(assessment, _judged(rows))
    overall.flagged = flags.get(OVERALL, "")
    writer = can_write(review, request.user, assessment)
    primary = StudyReport.objects.filter(study=assessment.study, primary=True).select_related("record").first()
    return {
        "review": review,
        "assessment": assessment,
        "study": assessment.study,
        "spot": spot_name(assessment.study, assessment.outcome),
        "primary": primary.record if primary else None,
        "domains": domains,
        "overall": overall,
        "head": _head(assessment, _judged(rows), error=head_error, missing=missing),
        "writer": writer,
        "editable": writer and assessment.status != RobAssessment.Status.COMPLETE,
        "consensus": assessment.is_consensus,
        "open_count": len(flags),
        "version": assessment.version,
        "alert": alert,
        "tool_label": Tool(assessment.tool).label,
    }


def assess(request: HttpRequest, review_id: int, assessment_id: int) -> HttpResponse:
    review, assessment = _load(request, review_id, assessment_id)
    return render(request, "grading/rob_assess.html", _context(request, review, assessment))


# --- saving a domain ----------------------------------------------------------------------------------------------


def _posted_view(assessment: RobAssessment, domain: str, posted: QueryDict, saved: bool) -> DomainView:
    """The domain as the page posted it: the answers, and the judgement following the proposal unless the
    assessor had chosen another one (an override, kept while the proposal changes)."""
    prefix = f"{domain}-q-"
    answers = {name[len(prefix) :]: str(posted.get(name, "")) for name in posted if name.startswith(prefix)}
    answers = {question: answer for question, answer in answers.items() if answer}
    view = _domain_view(
        assessment,
        domain,
        answers=answers,
        judgement=posted.get(f"{domain}-judgement", ""),
        override_reason=posted.get(f"{domain}-reason", "").strip(),
        support=posted.get(f"{domain}-support", "").strip(),
        saved=saved,
    )
    shown_proposal = posted.get(f"{domain}-proposed", "")
    if view.proposal and (not view.judgement or view.judgement == shown_proposal):
        view.judgement = view.proposal
    return view


def _domain_answer(
    request: HttpRequest,
    review: Review,
    assessment: RobAssessment,
    view: DomainView,
    *,
    status: int = 200,
    alert: str = "",
    version: int | None = None,
) -> HttpResponse:
    rows = _rows(assessment)
    flags = _flags(assessment)
    view.flagged = flags.get(view.code, "")
    overall = _overall_view(assessment, _judged(rows))
    overall.flagged = flags.get(OVERALL, "")
    context = {
        "review": review,
        "assessment": assessment,
        "d": view,
        "editable": True,
        "writer": True,
        "consensus": assessment.is_consensus,
        "alert": alert,
        "version": version,
        "oob": True,
        "overall": overall if version is not None else None,
        "head": _head(assessment, _judged(rows)) if version is not None else None,
    }
    return render(request, "grading/_rob_domain_saved.html", context, status=status)


@require_POST
def domain_save(request: HttpRequest, review_id: int, assessment_id: int) -> HttpResponse:
    """Save one domain (`domain`) as the page shows it."""
    review, assessment = _load(request, review_id, assessment_id, write=True)
    posted = request.POST
    domain = posted.get("domain", "")
    htmx = bool(getattr(request, "htmx", False))
    domains = services.domains_for(assessment.tool, assessment.study)
    if domain not in domains:
        messages.error(request, "That domain is not part of this assessment; reload the page.")
        return redirect("rob:assess", review_id=review.pk, assessment_id=assessment.pk)
    saved_before = RobJudgement.objects.filter(assessment=assessment, domain=domain).exists()
    view = _posted_view(assessment, domain, posted, saved_before)
    if assessment.status == RobAssessment.Status.COMPLETE:
        # A page opened before the assessment was marked complete (another tab): the comparison has read it.
        view.status, view.status_kind = "Not saved: see the message at the top of the page.", "error"
        if not htmx:
            return _page_again(request, review, assessment, view, alert=CLOSED, status=CONFLICT)
        return _domain_answer(request, review, assessment, view, status=CONFLICT, alert=CLOSED)
    pending = ""
    if view.asks_questions and assessment.tool == Tool.ROB2 and not view.proposal:
        pending = f"Not saved yet: {view.still_needed or 'answer the questions above.'}"
    elif not view.judgement:
        pending = "Not saved yet: choose a judgement."
    if pending:
        view.status, view.status_kind = pending, "pending"
        if not htmx:
            return _page_again(request, review, assessment, view, head_error=pending)
        return _domain_answer(request, review, assessment, view)
    try:
        row = services.judgement_save(
            user=request.user,
            review_id=review.pk,
            assessment_id=assessment.pk,
            version=_version(posted),
            domain=domain,
            answers={q.id: q.answer for q in view.questions if q.answer} if view.asks_questions else None,
            judgement=view.judgement,
            override_reason=view.override_reason if view.overridden or not view.proposal else "",
            support=view.support,
        )
    except ServiceConflict as exc:
        view.status, view.status_kind = "Not saved: see the message at the top of the page.", "error"
        if not htmx:
            return _page_again(request, review, assessment, view, alert=exc.message, status=CONFLICT)
        return _domain_answer(request, review, assessment, view, status=CONFLICT, alert=exc.message)
    except ValidationError as exc:
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        if "override_reason" in problems:
            view.reason_error = " ".join(problems.pop("override_reason"))
        rest = " ".join(m for ms in problems.values() for m in ms)
        if rest:
            view.status, view.status_kind = f"Not saved: {rest}", "error"
        else:
            view.status, view.status_kind = "Not saved yet: give the reason for your judgement.", "pending"
        if not htmx:
            return _page_again(request, review, assessment, view, status=INVALID)
        return _domain_answer(request, review, assessment, view, status=INVALID)
    assessment.refresh_from_db()
    done = _saved_view(assessment, domain, row)
    done.status, done.status_kind = "Saved", "saved"
    if not htmx:
        messages.success(request, f"{domain} saved.")
        return redirect(reverse("rob:assess", args=[review.pk, assessment.pk]) + f"#dom-{domain}")
    return _domain_answer(request, review, assessment, done, version=assessment.version)


def _page_again(
    request: HttpRequest,
    review: Review,
    assessment: RobAssessment,
    view: DomainView,
    *,
    alert: str = "",
    head_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """Without JavaScript: the page again with the domain as posted (not saved) and why."""
    context = _context(request, review, assessment, overlay={view.code: view}, alert=alert, head_error=head_error)
    context["version"] = _version(request.POST) or 0
    return render(request, "grading/rob_assess.html", context, status=status)


# --- the overall judgement and the status ---------------------------------------------------------------------------


@require_POST
def overall_save(request: HttpRequest, review_id: int, assessment_id: int) -> HttpResponse:
    review, assessment = _load(request, review_id, assessment_id, write=True)
    posted = request.POST
    htmx = bool(getattr(request, "htmx", False))
    wanted = posted.get("overall", "")
    reason = posted.get("overall-reason", "").strip()
    rows = _rows(assessment)
    status, alert, version = 200, "", None
    try:
        if assessment.status == RobAssessment.Status.COMPLETE:
            raise ServiceConflict(CLOSED)
        saved = services.overall_save(
            user=request.user, review_id=review.pk, assessment_id=assessment.pk, version=_version(posted),
            overall=wanted, reason=reason,
        )  # fmt: skip
    except ServiceConflict as exc:
        view = _overall_view(assessment, _judged(rows))
        view.judgement, view.override_reason = wanted, reason
        view.status, view.status_kind = "Not saved: see the message at the top of the page.", "error"
        status, alert = CONFLICT, exc.message
    except ValidationError as exc:
        view = _overall_view(assessment, _judged(rows))
        view.judgement, view.override_reason = wanted, reason
        problems = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        if "overall_override_reason" in problems:
            view.reason_error = " ".join(problems.pop("overall_override_reason"))
            view.status = "Not saved yet: give the reason."
            view.status_kind = "pending"
        if problems:
            view.status, view.status_kind = f"Not saved: {' '.join(m for ms in problems.values() for m in ms)}", "error"
        status = INVALID
    else:
        view = _overall_view(saved, _judged(rows))
        view.status, view.status_kind = "Saved", "saved"
        version = saved.version
    view.flagged = _flags(assessment).get(OVERALL, "")
    if not htmx:
        if status == 200:
            messages.success(request, "Overall judgement saved.")
        else:
            messages.error(request, alert or view.reason_error or view.status)
        return redirect(reverse("rob:assess", args=[review.pk, assessment.pk]) + "#dom-overall")
    context = {
        "review": review,
        "assessment": assessment,
        "overall": view,
        "editable": True,
        "writer": True,
        "consensus": assessment.is_consensus,
        "alert": alert,
        "version": version,
        "head": _head(saved, _judged(rows)) if version is not None else None,
    }
    return render(request, "grading/_rob_overall_saved.html", context, status=status)


@require_POST
def status_save(request: HttpRequest, review_id: int, assessment_id: int) -> HttpResponse:
    """Mark the assessment complete (every domain and the overall judged) or reopen it."""
    review, assessment = _load(request, review_id, assessment_id, write=True)
    htmx = bool(getattr(request, "htmx", False))
    wanted = request.POST.get("status", "")
    page = reverse("rob:assess", args=[review.pk, assessment.pk])
    try:
        services.assessment_set_status(
            user=request.user, review_id=review.pk, assessment_id=assessment.pk,
            version=_version(request.POST), status=wanted,
        )  # fmt: skip
    except ServiceConflict as exc:
        if not htmx:
            messages.error(request, exc.message)
            return redirect(page)
        return _head_answer(request, review, assessment, error=exc.message, status=CONFLICT)
    except ValidationError as exc:
        missing = services.missing_domains(assessment)
        names = [(d, domain_name(assessment.tool, d)) for d in missing]
        if not missing and not assessment.overall:
            names = [(OVERALL, "Overall judgement")]
        if not htmx:
            context = _context(request, review, assessment, head_error=errors_text(exc), missing=names)
            return render(request, "grading/rob_assess.html", context, status=INVALID)
        return _head_answer(request, review, assessment, error=errors_text(exc), missing=names, status=INVALID)
    if wanted == RobAssessment.Status.COMPLETE:
        text = "Marked complete."
        if not assessment.is_consensus:
            text += " The assessments of this study are compared once every assessor has completed theirs."
    else:
        text = "Reopened: you can change the judgements again; mark it complete when done."
    messages.success(request, text)
    return HttpResponseClientRedirect(page) if htmx else redirect(page)


def _head_answer(
    request: HttpRequest,
    review: Review,
    assessment: RobAssessment,
    *,
    error: str,
    missing: list[tuple[str, str]] | None = None,
    status: int,
) -> HttpResponse:
    judged = _judged(_rows(assessment))
    context = {
        "review": review,
        "assessment": assessment,
        "head": _head(assessment, judged, error=error, missing=missing),
        "editable": True,
        "writer": True,
        "consensus": assessment.is_consensus,
    }
    return render(request, "grading/_rob_head.html", context, status=status)


# --- history ------------------------------------------------------------------------------------------------------


def history(request: HttpRequest, review_id: int, assessment_id: int) -> HttpResponse:
    review, assessment = _load(request, review_id, assessment_id)
    changes = selectors.judgement_history(assessment=assessment)
    rows = [
        {
            "change": c,
            "what": domain_name(assessment.tool, c.domain),
            "old": judgement_label(c.old_judgement) if c.old_judgement else "",
            "new": judgement_label(c.new_judgement) if c.new_judgement else "",
            "proposed": judgement_label(c.proposed) if c.proposed else "",
            "who": c.user or "the worker (agreed judgements)",
        }
        for c in changes
    ]
    context = {
        "review": review,
        "assessment": assessment,
        "spot": spot_name(assessment.study, assessment.outcome),
        "rows": rows,
    }
    return render(request, "grading/rob_history.html", context)
