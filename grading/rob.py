"""Proposed risk-of-bias judgements from signalling-question answers.

RoB 2 (Sterne et al. 2019, BMJ 366:l4898) for individually randomised parallel-group trials: domains D1-D5
follow the algorithms of the RoB 2 full guidance document of 22 August 2019 (for each domain, its signalling
questions box, its "criteria for reaching risk-of-bias judgements" table and its algorithm table and figure;
for domain 4 these are Box 10, Tables 11-12 and Figure 5). Checked against: the guidance's domain-4 box (the
condition "If N/PN/NI to 4.1 and 4.2" on 4.3); the domain 1 criteria as reproduced in Syst Rev
2021;10:171, Table 2 ("RoB 2 guidelines on risk of bias assessment", PMC8191126; the stored copy shows
domain 1 and the start of domain 2 only); and, for every flowchart path, an independent implementation
of the published decision diagrams (CoRATES, packages/shared/src/checklists/rob2/scoring-domains.ts),
which agrees with this module on every path of valid answers, including D4's separate 4.2 NI branch.

Domain S (crossover trials; "bias arising from period and carryover effects", RoB 2 variant for crossover
trials, 2021) is NOT verified: no stored copy of the 2021 crossover guidance (nor of a port that quotes it)
was found. Its questions and algorithm below are the previous session's recollection, kept because saved
assessments use them; a methodologist must check them against the 2021 document before the proposal is
trusted. The assessor may override it with a reason, as for every domain.

ROBINS-I: this app assesses the seven domains of ROBINS-I 2016 (Sterne et al. 2016, BMJ 355:i4919), which
publishes no domain algorithm (only guidance on what each judgement means), so no domain proposal is made and
the assessor's own judgement stands; ``robins_overall`` implements the 2016 overall rule. The algorithms
(flowcharts) published with ROBINS-I V2 (riskofbias.info; 20 November 2025 release, still marked draft) are
not used: V2 has six domains, not seven (the 2016 "deviations from intended interventions" domain is gone,
classification comes before selection, domain 1 has two variants chosen by the effect estimated), different
signalling questions and answers (WN/SN, WY/SY), no "no information" judgement and a "low (except for
concerns about uncontrolled confounding)" level, so its algorithms do not apply to the 2016 questions. The
V2 flowcharts are raster images; the stored sources hold only third-party traces of them
(Black-Swan-Causal-Labs/robins-i-mcp, robins_i_mcp/algorithms.py; InfinityBowman/corates, the ROBINS-I
decision-diagrams; Michelle-Watson/robins-i-tool), which disagree with each other on V2 domains 1, 2 and 4;
the two that agree on domains 3, 5 and 6 still trace a draft, not the document.

Every judgement here is a *proposal*: the guidance lets reviewers override the algorithm, and the result
carries a ``reason`` naming the answers that decided it so the override can be argued.

Answers: "Y" yes, "PY" probably yes, "PN" probably no, "N" no, "NI" no information, "NA" not applicable.
Skip logic: a question that does not apply given the earlier answers is not required, and whatever valid
answer it carries (typically "NA", or a stale answer left by a form) is ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

ANSWERS = ("Y", "PY", "PN", "N", "NI", "NA")
ROB2_JUDGEMENTS = ("low", "some_concerns", "high")
ROB2_DOMAINS = ("D1", "D2", "D3", "D4", "D5", "DS")
ROB2_VARIANTS = ("assignment", "adhering")
ROBINS_JUDGEMENTS = ("low", "moderate", "serious", "critical", "no_information")
ROBINS_DOMAINS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")

YES = frozenset({"Y", "PY"})
NO = frozenset({"N", "PN"})
NI = frozenset({"NI"})
YES_NI = YES | NI
NO_NI = NO | NI

_FULL = ("Y", "PY", "PN", "N", "NI")
_NO_NI = ("Y", "PY", "PN", "N")
_IF_APPLICABLE = ("Y", "PY", "PN", "N", "NI", "NA")


class RobInputError(ValueError):
    """The answers cannot be judged: a needed answer is missing, or an answer or id is invalid."""


@dataclass(frozen=True)
class DomainResult:
    judgement: str
    reason: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    allowed: tuple[str, ...]
    needed_when: str = ""  # human condition, empty when always asked


@dataclass(frozen=True)
class _Item:
    question: Question
    label: str  # short label used in reasons
    applies: Callable[[Mapping[str, str]], bool] | None = None


def _is(qid: str, values: frozenset[str]) -> Callable[[Mapping[str, str]], bool]:
    return lambda a: a.get(qid) in values


def _any(*tests: Callable[[Mapping[str, str]], bool]) -> Callable[[Mapping[str, str]], bool]:
    return lambda a: any(t(a) for t in tests)


def _all(*tests: Callable[[Mapping[str, str]], bool]) -> Callable[[Mapping[str, str]], bool]:
    return lambda a: all(t(a) for t in tests)


def _item(
    qid: str,
    text: str,
    label: str,
    allowed: tuple[str, ...] = _FULL,
    applies: Callable[[Mapping[str, str]], bool] | None = None,
    needed_when: str = "",
) -> _Item:
    return _Item(Question(qid, text, allowed, needed_when), label, applies)


# Question wording shortened from the RoB 2 full guidance (22 Aug 2019); domain S from the previous session's
# recollection of the 2021 crossover guidance (unverified, see the module docstring). The "needed_when"
# conditions are the template's "If ... to ..." conditions.
_D1 = (
    _item("1.1", "Was the allocation sequence random?", "sequence random"),
    _item(
        "1.2",
        "Was the allocation sequence concealed until participants were enrolled and assigned?",
        "allocation concealed",
    ),
    _item(
        "1.3",
        "Did baseline differences between groups suggest a problem with randomisation?",
        "baseline imbalance suggests a problem",
    ),
)
_AWARE = _any(_is("2.1", YES_NI), _is("2.2", YES_NI))
_D2_ASSIGNMENT = (
    _item("2.1", "Were participants aware of their assigned intervention during the trial?", "participants aware"),
    _item(
        "2.2",
        "Were carers and people delivering the interventions aware of participants' assignment?",
        "carers/deliverers aware",
    ),
    _item(
        "2.3",
        "Were there deviations from the intended intervention that arose because of the trial context?",
        "deviations due to trial context",
        applies=_AWARE,
        needed_when="2.1 or 2.2 is Y/PY/NI",
    ),
    _item(
        "2.4",
        "Were these deviations likely to have affected the outcome?",
        "deviations affected outcome",
        applies=_is("2.3", YES),
        needed_when="2.3 is Y/PY",
    ),
    _item(
        "2.5",
        "Were these deviations from intended intervention balanced between groups?",
        "deviations balanced",
        applies=_is("2.4", YES_NI),
        needed_when="2.4 is Y/PY/NI",
    ),
    _item(
        "2.6",
        "Was an appropriate analysis used to estimate the effect of assignment to intervention?",
        "appropriate analysis",
    ),
    _item(
        "2.7",
        "Was there potential for a substantial impact of failing to analyse participants in their randomised group?",
        "substantial impact of analysis",
        applies=_is("2.6", NO_NI),
        needed_when="2.6 is N/PN/NI",
    ),
)
_D2_ADHERING = (
    _D2_ASSIGNMENT[0],
    _D2_ASSIGNMENT[1],
    _item(
        "2.3",
        "[If applicable] Were important non-protocol interventions balanced across intervention groups?",
        "non-protocol interventions balanced",
        allowed=_IF_APPLICABLE,
        applies=_AWARE,
        needed_when="2.1 or 2.2 is Y/PY/NI",
    ),
    _item(
        "2.4",
        "[If applicable] Were there failures in implementing the intervention that could have affected the outcome?",
        "implementation failures",
        allowed=_IF_APPLICABLE,
    ),
    _item(
        "2.5",
        "[If applicable] Was there non-adherence to the assigned regimen that could have affected outcomes?",
        "non-adherence",
        allowed=_IF_APPLICABLE,
    ),
    _item(
        "2.6",
        "Was an appropriate analysis used to estimate the effect of adhering to the intervention?",
        "appropriate analysis",
        applies=_any(_is("2.3", NO_NI), _is("2.4", YES_NI), _is("2.5", YES_NI)),
        needed_when="2.3 is N/PN/NI, or 2.4 or 2.5 is Y/PY/NI",
    ),
)
_D3 = (
    _item(
        "3.1", "Were outcome data available for all, or nearly all, randomised participants?", "data nearly complete"
    ),
    _item(
        "3.2",
        "Is there evidence that the result was not biased by missing outcome data?",
        "evidence of no bias",
        allowed=_NO_NI,
        applies=_is("3.1", NO_NI),
        needed_when="3.1 is N/PN/NI",
    ),
    _item(
        "3.3",
        "Could missingness in the outcome depend on its true value?",
        "missingness could depend on true value",
        applies=_is("3.2", NO),
        needed_when="3.2 is N/PN",
    ),
    _item(
        "3.4",
        "Is it likely that missingness in the outcome depended on its true value?",
        "missingness likely depended on true value",
        applies=_is("3.3", YES_NI),
        needed_when="3.3 is Y/PY/NI",
    ),
)
_D4 = (
    _item("4.1", "Was the method of measuring the outcome inappropriate?", "measurement inappropriate"),
    _item(
        "4.2", "Could measurement or ascertainment of the outcome have differed between groups?", "measurement differed"
    ),
    _item(
        "4.3",
        "Were outcome assessors aware of the intervention received by study participants?",
        "assessors aware",
        applies=_all(_is("4.1", NO_NI), _is("4.2", NO_NI)),
        needed_when="4.1 and 4.2 are N/PN/NI",
    ),
    _item(
        "4.4",
        "Could assessment of the outcome have been influenced by knowledge of intervention received?",
        "assessment could be influenced",
        applies=_is("4.3", YES_NI),
        needed_when="4.3 is Y/PY/NI",
    ),
    _item(
        "4.5",
        "Is it likely that assessment of the outcome was influenced by knowledge of intervention received?",
        "assessment likely influenced",
        applies=_is("4.4", YES_NI),
        needed_when="4.4 is Y/PY/NI",
    ),
)
_D5 = (
    _item(
        "5.1",
        "Were the data analysed per a pre-specified plan finalised before unblinded data were available?",
        "pre-specified analysis plan",
    ),
    _item(
        "5.2",
        "Was the result likely selected from multiple eligible outcome measurements?",
        "selected from multiple measurements",
    ),
    _item(
        "5.3",
        "Was the result likely selected from multiple eligible analyses of the data?",
        "selected from multiple analyses",
    ),
)
_DS = (
    _item(
        "S.1",
        "Was the number of participants allocated to each of the two sequences equal or nearly equal?",
        "sequences balanced",
    ),
    _item(
        "S.2",
        "Were period effects accounted for in the analysis?",
        "period effects accounted for",
        applies=_is("S.1", NO_NI),
        needed_when="S.1 is N/PN/NI",
    ),
    _item(
        "S.3",
        "Was there sufficient time for carryover effects to disappear before second-period outcome assessment?",
        "sufficient washout",
    ),
)


def _items(domain: str, variant: str) -> tuple[_Item, ...]:
    if variant not in ROB2_VARIANTS:
        raise RobInputError(f"Unknown RoB 2 variant {variant!r}; expected one of {', '.join(ROB2_VARIANTS)}.")
    table = {
        "D1": _D1,
        "D2": _D2_ASSIGNMENT if variant == "assignment" else _D2_ADHERING,
        "D3": _D3,
        "D4": _D4,
        "D5": _D5,
        "DS": _DS,
    }
    if domain not in table:
        raise RobInputError(f"Unknown RoB 2 domain {domain!r}; expected one of {', '.join(ROB2_DOMAINS)}.")
    return table[domain]


def rob2_questions(domain: str, answers: Mapping[str, str], *, variant: str = "assignment") -> list[Question]:
    """The questions of ``domain`` that apply given the answers so far (a form shows these and hides the rest).

    A conditional question appears only once the answers it depends on are given and trigger it.
    """
    shown: list[Question] = []
    given: dict[str, str] = {}  # answers to questions shown so far: a stale answer to a hidden one triggers nothing
    for item in _items(domain, variant):
        if item.applies is None or item.applies(given):
            shown.append(item.question)
            if item.question.id in answers:
                given[item.question.id] = answers[item.question.id]
    return shown


def _checked(domain: str, answers: Mapping[str, str], variant: str) -> tuple[dict[str, str], dict[str, str]]:
    """Validate ``answers``; return the answers to applicable questions and the labels of the domain's questions."""
    items = _items(domain, variant)
    labels = {item.question.id: item.label for item in items}
    for qid, answer in answers.items():
        if qid not in labels:
            raise RobInputError(f"{qid} is not a question of RoB 2 domain {domain}; expected {', '.join(labels)}.")
        if answer not in ANSWERS:
            raise RobInputError(f"{qid} has answer {answer!r}; expected one of {', '.join(ANSWERS)}.")
    applicable: dict[str, str] = {}
    for item in items:
        q = item.question
        # Conditions only read earlier questions, which are already validated here.
        if item.applies is not None and not item.applies(applicable):
            continue
        when = f" when {q.needed_when}" if q.needed_when else ""
        if q.id not in answers:
            raise RobInputError(f"{q.id} is needed{when}.")
        if answers[q.id] not in q.allowed:
            raise RobInputError(f"{q.id} cannot be {answers[q.id]}{when}; expected one of {'/'.join(q.allowed)}.")
        applicable[q.id] = answers[q.id]
    return applicable, labels


def _result(judgement: str, a: Mapping[str, str], labels: Mapping[str, str], ids: Sequence[str]) -> DomainResult:
    named = ", ".join(f"{qid} ({labels[qid]}) {a[qid]}" for qid in ids)
    return DomainResult(judgement, f"{named} → {judgement}.")


def rob2_domain(domain: str, answers: Mapping[str, str], *, variant: str = "assignment") -> DomainResult:
    """Propose the RoB 2 judgement for one domain ("D1"–"D5", or "DS" for crossover trials).

    ``variant`` only matters for D2: "assignment" (effect of assignment, 2.1–2.7) or "adhering"
    (effect of adhering, 2.1–2.6). Raises RobInputError naming the missing or invalid question.
    """
    a, labels = _checked(domain, answers, variant)

    def res(judgement: str, *ids: str) -> DomainResult:
        return _result(judgement, a, labels, ids)

    if domain == "D1":
        return _d1(a, res)
    if domain == "D2":
        return _d2_assignment(a, res) if variant == "assignment" else _d2_adhering(a, res)
    if domain == "D3":
        return _d3(a, res)
    if domain == "D4":
        return _d4(a, res)
    if domain == "D5":
        return _d5(a, res)
    return _ds(a, res)


_Res = Callable[..., DomainResult]


def _d1(a: Mapping[str, str], res: _Res) -> DomainResult:
    # Guidance, domain 1 criteria table and algorithm figure (criteria reproduced in Syst Rev 2021;10:171,
    # Table 2): not concealed → high; concealment NI → high only if baseline differences suggest a problem;
    # concealed → some concerns if the sequence was not random or baseline differences suggest a problem.
    if a["1.2"] in NO:
        return res("high", "1.2")
    if a["1.2"] in NI:
        return res("high" if a["1.3"] in YES else "some_concerns", "1.2", "1.3")
    if a["1.1"] in NO:
        return res("some_concerns", "1.2", "1.1")
    if a["1.3"] in YES:
        return res("some_concerns", "1.2", "1.1", "1.3")
    return res("low", "1.2", "1.1", "1.3")


def _d2_assignment(a: Mapping[str, str], res: _Res) -> DomainResult:
    # Guidance, domain 2 (effect of assignment) criteria table and two-part algorithm figure.
    # Part 1 (2.1-2.5): deviations arising from the trial context.
    if "2.3" not in a:
        part1 = res("low", "2.1", "2.2")
    elif a["2.3"] in NO:
        part1 = res("low", "2.3")
    elif a["2.3"] in NI:
        part1 = res("some_concerns", "2.3")
    elif a["2.4"] in NO:
        part1 = res("some_concerns", "2.3", "2.4")
    elif a["2.5"] in YES:
        part1 = res("some_concerns", "2.3", "2.4", "2.5")
    else:
        part1 = res("high", "2.3", "2.4", "2.5")
    # Part 2 (2.6-2.7): analysis used to estimate the effect of assignment.
    if a["2.6"] in YES:
        part2 = res("low", "2.6")
    elif a["2.7"] in NO:
        part2 = res("some_concerns", "2.6", "2.7")
    else:
        part2 = res("high", "2.6", "2.7")
    # The domain is low if both parts are low, high if either is high, some concerns otherwise.
    worst = max(part1, part2, key=lambda r: ROB2_JUDGEMENTS.index(r.judgement))
    if part1.judgement == part2.judgement:
        return DomainResult(worst.judgement, f"{part1.reason[:-1]}; {part2.reason}")
    return worst


def _d2_adhering(a: Mapping[str, str], res: _Res) -> DomainResult:
    # Guidance, domain 2 (effect of adhering) criteria table and algorithm figure: no problem in 2.3-2.5 → low;
    # otherwise 2.6 decides (appropriate analysis → some concerns, else high).
    if "2.6" not in a:
        # Not aware (or non-protocol interventions balanced), no implementation failures, no non-adherence.
        ids = ("2.3", "2.4", "2.5") if "2.3" in a else ("2.1", "2.2", "2.4", "2.5")
        return res("low", *ids)
    problems = [qid for qid in ("2.3",) if a.get(qid) in NO_NI] + [qid for qid in ("2.4", "2.5") if a[qid] in YES_NI]
    return res("some_concerns" if a["2.6"] in YES else "high", *problems, "2.6")


def _d3(a: Mapping[str, str], res: _Res) -> DomainResult:
    # Guidance, domain 3 criteria table and algorithm figure (3.2 has no NI option).
    if a["3.1"] in YES:
        return res("low", "3.1")
    if a["3.2"] in YES:
        return res("low", "3.1", "3.2")
    if a["3.3"] in NO:
        return res("low", "3.2", "3.3")
    if a["3.4"] in NO:
        return res("some_concerns", "3.2", "3.3", "3.4")
    return res("high", "3.2", "3.3", "3.4")


def _d4(a: Mapping[str, str], res: _Res) -> DomainResult:
    if a["4.1"] in YES:
        return res("high", "4.1")
    if a["4.2"] in YES:
        return res("high", "4.2")
    # Guidance, domain 4: Box 10, criteria Table 11, algorithm Table 12 and Figure 5. 4.2 NI has its own
    # branch: 4.3 N/PN, or 4.4 N/PN, or 4.5 N/PN → some concerns (where 4.2 N/PN gives low, low, some
    # concerns); 4.5 Y/PY/NI → high on both branches ("it is likely that assessment of the outcome was
    # influenced by knowledge of intervention received").
    base = ("4.2",)
    if a["4.3"] in NO:
        return res("low" if a["4.2"] in NO else "some_concerns", *base, "4.3")
    if a["4.4"] in NO:
        return res("low" if a["4.2"] in NO else "some_concerns", *base, "4.3", "4.4")
    if a["4.5"] in NO:
        return res("some_concerns", *base, "4.3", "4.4", "4.5")
    return res("high", *base, "4.3", "4.4", "4.5")


def _d5(a: Mapping[str, str], res: _Res) -> DomainResult:
    # Guidance, domain 5 criteria table and algorithm figure.
    selected = [qid for qid in ("5.2", "5.3") if a[qid] in YES]
    if selected:
        return res("high", *selected)
    unclear = [qid for qid in ("5.2", "5.3") if a[qid] in NI]
    if unclear:
        return res("some_concerns", *unclear)
    return res("low" if a["5.1"] in YES else "some_concerns", "5.1", "5.2", "5.3")


def _ds(a: Mapping[str, str], res: _Res) -> DomainResult:
    # UNVERIFIED (no stored copy of the 2021 crossover guidance): the previous session's recollection, kept
    # unchanged. Washout (S.3) dominates; otherwise balanced sequences (S.1) or period effects in the
    # analysis (S.2) make it low.
    if a["S.3"] in NO:
        return res("high", "S.3")
    if a["S.3"] in NI:
        return res("some_concerns", "S.3")
    if a["S.1"] in YES:
        return res("low", "S.1", "S.3")
    return res("low" if a["S.2"] in YES else "some_concerns", "S.1", "S.2", "S.3")


def rob2_overall(judgements: Mapping[str, str], *, many_concerns_high: int | None = None) -> DomainResult:
    """Overall RoB 2 judgement from domain judgements D1–D5 (and DS for crossover trials, if given).

    Low if every domain is low; high if any domain is high; otherwise some concerns. The guidance also lets
    reviewers judge a result high when "some concerns" in multiple domains substantially lower confidence:
    ``many_concerns_high=n`` applies that as "n or more some-concerns domains → high"; None never does.
    """
    missing = [d for d in ROB2_DOMAINS[:5] if d not in judgements]
    if missing:
        raise RobInputError(f"Domain judgements are needed for {', '.join(missing)}.")
    for domain, judgement in judgements.items():
        if domain not in ROB2_DOMAINS:
            raise RobInputError(f"{domain} is not a RoB 2 domain; expected {', '.join(ROB2_DOMAINS)}.")
        if judgement not in ROB2_JUDGEMENTS:
            raise RobInputError(f"{domain} has judgement {judgement!r}; expected one of {', '.join(ROB2_JUDGEMENTS)}.")
    if many_concerns_high is not None and many_concerns_high < 2:
        raise RobInputError("many_concerns_high must be at least 2 (or None).")
    order = [d for d in ROB2_DOMAINS if d in judgements]
    high = [d for d in order if judgements[d] == "high"]
    if high:
        return DomainResult("high", f"{', '.join(high)} high → high.")
    concerns = [d for d in order if judgements[d] == "some_concerns"]
    if many_concerns_high is not None and len(concerns) >= many_concerns_high:
        return DomainResult(
            "high",
            f"{', '.join(concerns)} some concerns ({len(concerns)} ≥ {many_concerns_high} domains) → high.",
        )
    if concerns:
        return DomainResult("some_concerns", f"{', '.join(concerns)} some concerns, none high → some_concerns.")
    return DomainResult("low", "All domains low → low.")


def robins_overall(judgements: Mapping[str, str], *, key_domains: Sequence[str] | None = None) -> DomainResult:
    """Overall ROBINS-I 2016 judgement from the seven domain judgements D1–D7 (Sterne et al. 2016,
    BMJ 355:i4919, criteria for the overall judgement): low if low in all domains; moderate if low or
    moderate in all; serious if serious in at least one and critical in none; critical if critical in at
    least one; no information if there is no clear indication of serious or critical risk and information is
    lacking in one or more key domains.

    ``key_domains`` names the key domains (None: every domain counts as key). A no-information domain that
    is not key is ignored: the 2016 rule names only key domains, and this app's reading is that such a
    domain does not keep the result from low or moderate. (ROBINS-I V2's overall rule differs: six domains,
    no "no information" judgement; it is not used here, see the module docstring.)
    """
    missing = [d for d in ROBINS_DOMAINS if d not in judgements]
    if missing:
        raise RobInputError(f"Domain judgements are needed for {', '.join(missing)}.")
    for domain, judgement in judgements.items():
        if domain not in ROBINS_DOMAINS:
            raise RobInputError(f"{domain} is not a ROBINS-I domain; expected {', '.join(ROBINS_DOMAINS)}.")
        if judgement not in ROBINS_JUDGEMENTS:
            raise RobInputError(
                f"{domain} has judgement {judgement!r}; expected one of {', '.join(ROBINS_JUDGEMENTS)}."
            )
    keys = ROBINS_DOMAINS if key_domains is None else tuple(key_domains)
    unknown = [d for d in keys if d not in ROBINS_DOMAINS]
    if unknown:
        raise RobInputError(f"Unknown key domains {', '.join(unknown)}; expected {', '.join(ROBINS_DOMAINS)}.")
    for level in ("critical", "serious"):
        worst = [d for d in ROBINS_DOMAINS if judgements[d] == level]
        if worst:
            return DomainResult(level, f"{', '.join(worst)} {level} → {level}.")
    no_info = [d for d in ROBINS_DOMAINS if judgements[d] == "no_information" and d in keys]
    if no_info:
        return DomainResult(
            "no_information", f"{', '.join(no_info)} no information, none serious or critical → no_information."
        )
    moderate = [d for d in ROBINS_DOMAINS if judgements[d] == "moderate"]
    if moderate:
        return DomainResult("moderate", f"{', '.join(moderate)} moderate, none worse → moderate.")
    ignored = [d for d in ROBINS_DOMAINS if judgements[d] == "no_information"]
    note = f" ({', '.join(ignored)} no information, not key)" if ignored else ""
    return DomainResult("low", f"All domains low{note} → low.")
