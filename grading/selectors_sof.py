"""The Summary of Findings tables of a review, one per comparison, from its outcome summaries and certainty
ratings, as `grading.sof.SofTable`s (which `grading.sof` renders as CSV, HTML and DOCX, and the page shows).

Layout and wording as in GRADEpro's SoF tables (GRADE Handbook 2013, section 9; Cochrane Handbook 6.4, chapter
14): anticipated absolute effects per 1,000 from the risk with the comparison (the study population's, or the
assumed risk the team set), the relative effect with its 95% CI, participants (studies), the certainty with its
symbols and footnotes (each domain rated down or up, with the team's explanation), and comments. An outcome
that was not pooled shows each study's result in its comments."""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any

from core.figures import bound, number
from extraction.models import Study
from grading import grade
from grading.models import CertaintyRating
from grading.selectors_certainty import (
    NOT_RANDOMISED,
    CertaintyView,
    analysed_rows,
    certainty_list,
    total_participants,
    weights_and_participants,
)
from grading.sof import EXPLANATION, SofRow, SofTable
from reviews.models import Review

MINUS = "\u2212"
NAMES = {"RR": "RR", "OR": "OR", "RD": "RD", "MD": "MD", "SMD": "SMD", "GIV": "Effect"}
ABBREVIATIONS = {
    "RR": "RR: risk ratio",
    "OR": "OR: odds ratio",
    "RD": "RD: risk difference",
    "MD": "MD: mean difference",
    "SMD": "SMD: standardised mean difference",
}


def _n(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace("-", MINUS)


def _marks() -> Iterable[str]:
    yield from string.ascii_lowercase
    for first in string.ascii_lowercase:
        for second in string.ascii_lowercase:
            yield first + second


def _measure(view: CertaintyView) -> str:
    return str((view.analysis.result or {}).get("measure") or view.analysis.effect_measure)


def _is_ratio(view: CertaintyView) -> bool:
    return bool((view.analysis.result or {}).get("ratio", view.analysis.is_ratio))


def _ci(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return ""
    return f" ({_n(low)} to {_n(high)})"


def _difference(value: float, unit: str = "") -> str:
    return f"{abs(value):.2f}{unit} {'lower' if value < 0 else 'higher'}"


def _lower_first(name: str) -> str:
    """ "Pain intensity" reads "pain intensity" mid-sentence; "HADS anxiety" keeps its acronym."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _per_1000(risk: float) -> int:
    """Half away from zero, as GRADEpro and `grade.absolute_effects` round (not Python's half to even)."""
    return int(abs(risk) * 1000 + 0.5 + 1e-9)


def _per_study_text(view: CertaintyView) -> str:
    result = view.analysis.result or {}
    name = NAMES.get(_measure(view), "Effect")
    parts = []
    for row in result.get("per_study") or []:
        label = str(row.get("label")) + (f" ({row['subgroup']})" if row.get("subgroup") else "")
        effect = number(row.get("effect"))
        if row.get("excluded") or effect is None:
            parts.append(f"{label}: not estimable")
            continue
        parts.append(f"{label}: {name} {_n(effect)}{_ci(bound(row.get('ci_low')), bound(row.get('ci_high')))}")
    return "; ".join(parts)


def _participants(view: CertaintyView, designs: dict[str, str]) -> str:
    result = view.analysis.result or {}
    labels = sorted({str(row.get("label")) for row in analysed_rows(result)})
    if not labels:
        return ""
    _, participants = weights_and_participants(result, designs)
    total = total_participants(participants)
    randomised = sum(1 for label in labels if designs.get(label) not in NOT_RANDOMISED)
    others = len(labels) - randomised
    kinds = []
    if randomised:
        kinds.append(f"{randomised} RCT" + ("s" if randomised > 1 else ""))
    if others:
        kinds.append(f"{others} non-randomised " + ("studies" if others > 1 else "study"))
    return f"{'Not reported' if total is None else format(total, ',')} ({', '.join(kinds)})"


def _effects(view: CertaintyView) -> tuple[str, str, str, str, str]:
    """(risk with control, risk with intervention, difference, relative effect, comment) of one outcome."""
    analysis, result = view.analysis, view.analysis.result or {}
    if not result:
        return "", "", "", "Not estimable", analysis.error or "The outcome summary is not computed yet."
    measure = _measure(view)
    unit = analysis.outcome.unit
    estimate = number(result.get("estimate"))
    low, high = bound(result.get("ci_low")), bound(result.get("ci_high"))
    chose_pooling = bool(result.get("pooled"))
    pooled = chose_pooling and estimate is not None and low is not None and high is not None
    control = view.rating.assumed_risk if view.rating and view.rating.assumed_risk is not None else None
    if control is None and measure in ("RR", "OR", "RD"):
        control = grade.control_risk_from(result)
    risk_control = ""
    if measure in ("RR", "OR", "RD") and control is not None:
        risk_control = f"{_per_1000(control):,} per 1,000"
    elif measure in ("MD",):
        rows = [row for row in result.get("per_study") or [] if not row.get("excluded")]
        means = [mean for row in rows if (mean := number(row.get("mean_2"))) is not None]
        if means:
            low_m, high_m = min(means), max(means)
            what = f"The mean {_lower_first(analysis.outcome.name)}"
            suffix = f" ({unit})" if unit else ""
            risk_control = (
                f"{what} was {_n(low_m, 1)}{suffix}"
                if low_m == high_m
                else f"{what} ranged across control groups from {_n(low_m, 1)} to {_n(high_m, 1)}{suffix}"
            )
    if chose_pooling and not pooled:
        notes = " ".join(str(note) for note in result.get("notes") or [])
        return risk_control, "Not estimable", "", "Not estimable", (notes + " " + _per_study_text(view) + ".").strip()
    if not pooled:
        why = analysis.not_pooled_reason.strip().rstrip(".")
        comment = "Not pooled" + (f": {why}" if why else "") + ". " + _per_study_text(view) + "."
        return risk_control, "See comments", "", "Not pooled", comment.strip()
    if estimate is None or low is None or high is None:  # for the type checker: `pooled` says they are set
        return risk_control, "", "", "Not estimable", ""
    name = NAMES.get(measure, "Effect")
    if measure in ("RR", "OR") and control is not None:
        effects = grade.absolute_effects(measure, estimate, low, high, control)
        return (risk_control, effects["text"], effects["difference_text"], f"{name} {_n(estimate)}{_ci(low, high)}", "")
    if measure == "RD" and control is not None:
        effects = grade.absolute_effects(measure, estimate, low, high, control)
        return (risk_control, effects["text"], effects["difference_text"], "", "")
    if _is_ratio(view):
        return risk_control, "", "", f"{name} {_n(estimate)}{_ci(low, high)}", ""
    sd = " SD" if measure == "SMD" else ""  # GRADEpro: "SMD 0.22 SD lower (…)"; the MD's unit is in the detail
    text = f"{name} {_difference(estimate, sd)} ({_difference(low)} to {_difference(high)})"
    return risk_control, text, "", "", ""


def _row(view: CertaintyView, marks: Iterable[str], notes: list[tuple[str, str]], designs: dict[str, str]) -> SofRow:
    outcome = view.analysis.outcome
    control, intervention, difference, relative, comment = _effects(view)
    row_marks: list[str] = []
    if view.rated:
        for _, text in view.footnotes():
            mark = next(iter(marks))
            notes.append((mark, text))
            row_marks.append(mark)
        certainty_symbols, certainty_label = view.symbols, view.label
    else:
        certainty_symbols, certainty_label = "", "Not rated yet"
    changed = "Rated before the outcome's data last changed: to be checked." if view.data_changed else ""
    comments = " ".join(filter(None, [changed, view.rating.comments.strip() if view.rating else "", comment]))
    direction = outcome.get_direction_display().lower() if outcome.direction else ""
    detail = "; ".join(filter(None, [outcome.unit, direction]))
    return SofRow(
        outcome=outcome.name,
        timepoint=outcome.timepoint,
        detail=detail,
        risk_control=control,
        risk_intervention=intervention,
        difference=difference,
        relative_effect=relative,
        participants=_participants(view, designs),
        certainty_symbols=certainty_symbols,
        certainty_label=certainty_label,
        footnote_marks=tuple(row_marks),
        comments=comments,
    )


def _explanation(abbreviations: str) -> str:
    """GRADEpro's note under the table, with the abbreviations of the measures this table uses."""
    head = EXPLANATION.split(" CI: ")[0]
    return f"{head} CI: confidence interval" + (f"; {abbreviations}." if abbreviations else ".")


def sof_tables(*, review: Review, comparison_id: int | str | None = None) -> list[SofTable]:
    """One table per comparison that has outcome summaries, outcomes in the review's order."""
    views = certainty_list(review=review, comparison_id=comparison_id)
    designs = dict(Study.objects.filter(review=review).values_list("label", "design"))
    tables: list[SofTable] = []
    by_comparison: dict[int, list[CertaintyView]] = {}
    for view in views:
        if view.rating and view.rating.importance == CertaintyRating.Importance.LIMITED:
            continue  # a Summary of Findings holds the critical and important outcomes (GRADE Handbook 5.2)
        by_comparison.setdefault(view.analysis.comparison_id, []).append(view)
    for group in by_comparison.values():
        comparison = group[0].analysis.comparison
        marks = iter(_marks())
        notes: list[tuple[str, str]] = []
        rows = tuple(_row(view, marks, notes, designs) for view in group)
        measures = sorted({_measure(view) for view in group})
        abbreviations = "; ".join(ABBREVIATIONS[m] for m in measures if m in ABBREVIATIONS)
        tables.append(
            SofTable(
                title=f"{comparison.intervention} compared with {_mid_sentence(comparison.control)}"
                + (f" for {_mid_sentence(review.population.strip())}" if review.population.strip() else ""),
                population=review.population.strip(),
                setting="",
                intervention=comparison.intervention,
                comparison=comparison.control,
                rows=rows,
                footnotes=tuple(notes),
                explanation=_explanation(abbreviations),
            )
        )
    return tables


def sof_json(tables: list[SofTable]) -> list[dict[str, Any]]:
    return [asdict(table) for table in tables]


def _mid_sentence(text: str) -> str:
    """A phrase as it reads inside the title: "Adults with cancer pain" -> "adults with cancer pain"; words in
    capitals (an acronym: "HIV", "COPD") and names without a lower-case second letter stay as they are."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[0].isupper() and first[1:].islower():
        return text[0].lower() + text[1:]
    return text
