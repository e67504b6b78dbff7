"""Certainty (GRADE) reads: each outcome summary of the review with its rating (or the defaults, when not rated
yet), the level, and the proposals from the data beside each domain; and the Summary of Findings tables.

Who reads: as for the outcome summaries (`synthesis.selectors.may_read`: editors and owners, everyone once
extraction is not blinded). The risk-of-bias proposal quotes the consensus risk-of-bias judgements, so a member
who may not see those (`grading.selectors.sees_all`) gets no such proposal, only a note why.

Proposals are computed when read, from the analysis result as it is and the consensus risk of bias, and are
never written into a rating: a person accepts one by saving the rating. When pooling was judged inappropriate
the proposals use the per-study results, and say so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from extraction.models import Comparison, Study
from grading import grade
from grading import selectors as rob_selectors
from grading.models import CERTAINTY_DOMAINS, CERTAINTY_DOWNGRADES, CertaintyRating, RobAssessment
from grading.services_certainty import DOMAIN_LABELS, data_changed
from reviews.models import Review
from synthesis import selectors as synthesis_selectors
from synthesis.models import Analysis

MINUS = "\u2212"
DATA_DOMAINS = ("risk_of_bias", "inconsistency", "imprecision", "publication_bias")  # the data speak to these
NOT_RANDOMISED = {Study.Design.NON_RANDOMISED, Study.Design.OTHER}


BLINDED = (
    "Certainty and the Summary of Findings draw on the consensus data and risk of bias: while extraction or "
    "risk-of-bias assessment is blinded, they are for editors and owners."
)


def may_read(review: Review) -> bool:
    """Editors and owners; reviewers once neither extraction nor risk of bias is blinded (the ratings, their
    explanations and footnotes speak of the consensus risk of bias)."""
    return synthesis_selectors.may_read(review) and rob_selectors.sees_all(review)


@dataclass
class Suggestion:
    """A proposal for one domain: `change` in levels (None: no proposal, the reasons say why)."""

    domain: str
    change: int | None
    reasons: list[str]
    start: str = ""  # for the starting level: "high" or "low"


@dataclass
class CertaintyView:
    analysis: Analysis
    rating: CertaintyRating | None
    start: str
    changes: dict[str, int]
    explanations: dict[str, str]
    level: str
    symbols: str
    label: str
    proposals: dict[str, Suggestion] = field(default_factory=dict)
    result_note: str = ""

    @property
    def version(self) -> int:
        return self.rating.version if self.rating else 0

    @property
    def status(self) -> str:
        return self.rating.status if self.rating else "not_rated"

    @property
    def rated(self) -> bool:
        return self.rating is not None and self.rating.version > 0

    @property
    def data_changed(self) -> bool:
        """The outcome summary's inputs or measure changed since the rating was saved (and signed off)."""
        return data_changed(self.rating, self.analysis)

    def footnotes(self) -> list[tuple[str, str]]:
        """(domain, text) for each domain rated up or down, in GRADE's order: the Summary of Findings footnotes."""
        notes = []
        for domain in CERTAINTY_DOMAINS:
            change = self.changes.get(domain, 0)
            if not change:
                continue
            levels = "one level" if abs(change) == 1 else "two levels"
            verb = "Downgraded" if domain in CERTAINTY_DOWNGRADES else "Upgraded"
            text = self.explanations.get(domain, "").strip()
            notes.append((domain, f"{verb} by {levels} for {DOMAIN_LABELS[domain].lower()}: {text}"))
        return notes


@dataclass
class _Context:
    """What every outcome's proposals read, loaded once per review (three queries, whatever the number of
    outcomes): the studies by label, the consensus overall risk of bias by (study, outcome or None)."""

    studies: dict[str, Study]
    rob: dict[tuple[int, int | None], str]
    sees_rob: bool
    rob_tool: str

    @classmethod
    def load(cls, review: Review) -> _Context:
        return cls(
            studies={s.label: s for s in Study.objects.filter(review=review)},
            rob=rob_selectors.consensus_overall(review=review),
            sees_rob=rob_selectors.sees_all(review),
            rob_tool=rob_selectors.settings_for(review).tool,
        )

    def judged(self, studies: dict[str, Study], outcome_id: int) -> dict[str, str]:
        """{label: consensus overall} of these studies at this outcome (`grading.selectors.overall_at`)."""
        found = {label: rob_selectors.overall_at(self.rob, study.pk, outcome_id) for label, study in studies.items()}
        return {label: overall for label, overall in found.items() if overall}


def _studies_of(context: _Context, result: dict[str, Any]) -> dict[str, Study]:
    labels = {str(row.get("label")) for row in result.get("per_study") or []}
    return {label: context.studies[label] for label in labels if label in context.studies}


def analysed_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows with data: all but those left out for incomplete data. Studies with no events in either group
    count: they were analysed (and left out of the ratio's pooling), as RevMan and GRADEpro count them."""
    rows = result.get("per_study") or []
    return [row for row in rows if not str(row.get("excluded") or "").startswith("incomplete data")]


def weights_and_participants(
    result: dict[str, Any], designs: dict[str, str]
) -> tuple[dict[str, float | None], dict[str, int | None]]:
    """Per study (not per row: a multi-arm study has a row per comparison of its arms) the analysis weight and
    the participants analysed: in a crossover trial every participant is in both groups (the largest group
    counts), and rows sharing a control group count it once. None where a study reports no group sizes (generic
    inverse variance data need none)."""
    weights: dict[str, float | None] = {}
    groups: dict[str, int] = {}
    largest: dict[str, int] = {}
    controls: dict[str, int] = {}
    reported: set[str] = set()
    for row in analysed_rows(result):
        label = str(row.get("label"))
        weight = row.get("weight")
        if weight is None:
            weights.setdefault(label, None)
        else:
            weights[label] = (weights.get(label) or 0.0) + float(weight)
        if row.get("total_1") is not None or row.get("total_2") is not None:
            reported.add(label)
        first, second = int(row.get("total_1") or 0), int(row.get("total_2") or 0)
        groups[label] = groups.get(label, 0) + first
        controls[label] = max(controls.get(label, 0), second)
        largest[label] = max(largest.get(label, 0), first, second)
    participants: dict[str, int | None] = {
        label: (largest[label] if designs.get(label) == Study.Design.CROSSOVER else groups[label] + controls[label])
        if label in reported
        else None
        for label in groups
    }
    return weights, participants


def total_participants(participants: dict[str, int | None]) -> int | None:
    known = [n for n in participants.values() if n is not None]
    return sum(known) if known else None


def _start_proposal(studies: dict[str, Study], tool: str) -> Suggestion:
    if not studies:
        return Suggestion("start", None, ["No study in this summary yet."])
    non_randomised = sorted(label for label, s in studies.items() if s.design in NOT_RANDOMISED)
    if not non_randomised:
        return Suggestion(
            "start", None, ["Every study is a randomised trial: start at high (GRADE Handbook 5.1)."], start="high"
        )
    names = ", ".join(non_randomised)
    if tool == "robins":
        reason = f"Non-randomised: {names}; assessed with ROBINS-I, so start at high (Schünemann et al. 2019)."
        return Suggestion("start", None, [reason], start="high")
    return Suggestion("start", None, [f"Non-randomised: {names}: start at low (GRADE Handbook 5.1)."], start="low")


def _proposal(domain: str, compute: Any) -> Suggestion:
    try:
        found = compute()
    except grade.GradeInputError as exc:
        return Suggestion(domain, None, [f"No proposal: {exc}."])
    return Suggestion(domain, found.change, list(found.reasons))


def proposals_for(
    analysis: Analysis, rating: CertaintyRating | None, context: _Context
) -> tuple[dict[str, Suggestion], str]:
    """The proposals for the domains the data speak to, and a note on the result they come from."""
    result = analysis.result
    if not result:
        why = analysis.error or "The outcome summary has not been computed yet."
        none = {d: Suggestion(d, None, [f"No proposal: {why}"]) for d in DATA_DOMAINS}
        return none, f"No proposals: {why}"
    note = "" if analysis.status == Analysis.Status.CURRENT else "The outcome summary is out of date (recomputing)."
    pooled = bool(result.get("pooled")) and result.get("estimate") is not None
    if not pooled:
        why = analysis.not_pooled_reason.strip().rstrip(".")
        note = " ".join(
            filter(
                None, [note, "Not pooled" + (f" ({why})" if why else "") + ": the proposals use the per-study results."]
            )
        )
    studies = _studies_of(context, result)
    proposals = {"start": _start_proposal(studies, context.rob_tool)}
    designs = {label: study.design for label, study in studies.items()}
    weights, participants = weights_and_participants(result, designs)
    if not context.sees_rob:
        proposals["risk_of_bias"] = Suggestion(
            "risk_of_bias", None, ["Hidden while risk of bias is assessed blinded (editors and owners see it)."]
        )
    else:
        judged = context.judged(studies, analysis.outcome_id)
        missing = sorted(label for label in weights if label not in judged)
        if missing:
            proposals["risk_of_bias"] = Suggestion(
                "risk_of_bias", None, [f"No proposal until the consensus risk of bias of {', '.join(missing)} is set."]
            )
        else:
            sizes = {label: n or 0 for label, n in participants.items()}
            proposals["risk_of_bias"] = _proposal(
                "risk_of_bias", lambda: grade.propose_risk_of_bias(weights, judged, participants=sizes)
            )
            named = "; ".join(f"{label}: {judged[label].replace('_', ' ')}" for label in sorted(weights))
            proposals["risk_of_bias"].reasons.insert(0, f"Consensus risk of bias: {named}.")
    proposals["inconsistency"] = _proposal("inconsistency", lambda: grade.propose_inconsistency(result))
    proposals["indirectness"] = Suggestion(
        "indirectness", None, ["Judged by the team: compare the studies' populations, interventions and outcomes."]
    )
    threshold = rating.imprecision_threshold if rating else None
    control = rating.assumed_risk if rating and rating.assumed_risk is not None else grade.control_risk_from(result)
    if result.get("measure") not in ("RR", "OR", "RD"):
        control = None
    # The participants as counted here (crossover participants and shared control groups once), not the
    # analysis's sum of group sizes, so the information size and the Summary of Findings agree.
    counted = {**result, "participants": total_participants(participants)}
    proposals["imprecision"] = _proposal(
        "imprecision", lambda: grade.propose_imprecision(counted, threshold=threshold, control_risk=control)
    )
    proposals["publication_bias"] = _proposal("publication_bias", lambda: grade.propose_publication_bias(result))
    return proposals, note


def _view(analysis: Analysis, rating: CertaintyRating | None, context: _Context) -> CertaintyView:
    changes = rating.changes() if rating else dict.fromkeys(CERTAINTY_DOMAINS, 0)
    start = rating.start if rating else CertaintyRating.Start.HIGH
    downgrades = {d: changes[d] for d in CERTAINTY_DOWNGRADES}
    upgrades = {d: changes[d] for d in CERTAINTY_DOMAINS if d not in CERTAINTY_DOWNGRADES}
    level = grade.certainty(start, downgrades, upgrades)
    proposals, note = proposals_for(analysis, rating, context)
    return CertaintyView(
        analysis=analysis,
        rating=rating,
        start=start,
        changes=changes,
        explanations=dict(rating.explanations or {}) if rating else {},
        level=level.level,
        symbols=level.symbols,
        label=level.label,
        proposals=proposals,
        result_note=note,
    )


def _analyses(review: Review, comparison_id: int | str | None = None) -> QuerySet[Analysis]:
    found = Analysis.objects.filter(review=review).select_related("comparison", "outcome")
    if comparison_id not in (None, ""):
        try:
            comparison = Comparison.objects.get(review=review, pk=int(comparison_id))  # type: ignore[arg-type]
        except (Comparison.DoesNotExist, TypeError, ValueError) as exc:
            raise Http404("No such comparison in this review.") from exc
        found = found.filter(comparison=comparison)
    return found.order_by("comparison__position", "comparison_id", "outcome__position", "outcome_id")


def certainty_list(*, review: Review, comparison_id: int | str | None = None) -> list[CertaintyView]:
    """Every outcome summary of the review (or one comparison), with its rating and proposals."""
    ratings = {
        (r.comparison_id, r.outcome_id): r
        for r in CertaintyRating.objects.filter(review=review).select_related("updated_by", "signed_off_by")
    }
    context = _Context.load(review)
    return [_view(a, ratings.get((a.comparison_id, a.outcome_id)), context) for a in _analyses(review, comparison_id)]


def certainty_get(*, review: Review, comparison_id: int | str, outcome_id: int | str) -> CertaintyView:
    try:
        analysis = _analyses(review).get(comparison_id=int(comparison_id), outcome_id=int(outcome_id))
    except (Analysis.DoesNotExist, TypeError, ValueError) as exc:
        raise Http404("No outcome summary for this comparison and outcome.") from exc
    rating = (
        CertaintyRating.objects.filter(comparison_id=analysis.comparison_id, outcome_id=analysis.outcome_id)
        .select_related("updated_by", "signed_off_by")
        .first()
    )
    return _view(analysis, rating, _Context.load(review))


def rob_plot(*, review: Review, view: CertaintyView) -> tuple[list[rob_selectors.PlotRow], dict[str, float], bool]:
    """The consensus risk of bias of the studies in one outcome summary, for the summary bar plot weighted as the
    risk-of-bias proposal weighs them: (rows, weights by study label, weighted by participants?). Each study's
    assessment of this outcome is preferred over its study-level one. Nothing for a member who may not see the
    consensus (blinding)."""
    result = view.analysis.result or {}
    if not rob_selectors.sees_all(review) or not result:
        return [], {}, False
    tool = rob_selectors.settings_for(review).tool
    labels = {str(row.get("label")) for row in result.get("per_study") or [] if not row.get("excluded")}
    found = (
        RobAssessment.objects.filter(review=review, assessor__isnull=True, tool=tool, study__label__in=labels)
        .filter(Q(outcome__isnull=True) | Q(outcome_id=view.analysis.outcome_id))
        .select_related("study")
        .prefetch_related("judgements")
        .order_by("study__label", "outcome_id")
    )
    chosen: dict[int, RobAssessment] = {}
    for assessment in found:
        if assessment.study_id not in chosen or assessment.outcome_id is not None:
            chosen[assessment.study_id] = assessment
    designs = {a.study.label: a.study.design for a in chosen.values()}
    weights, participants = weights_and_participants(result, designs)
    by_participants = all(weight is None for weight in weights.values())
    use = {
        label: float((participants.get(label) or 0) if by_participants else (weights.get(label) or 0.0))
        for label in weights
    }
    rows = rob_selectors.plot_rows(tool, list(chosen.values()))
    return rows, {label: use[label] for label, _, _ in rows if label in use}, by_participants
