"""Take the loaded demo review to its end, as its team would, following sources/key.json: the editor settles the
duplicate queue; both authors screen titles and abstracts (blind) and the editor resolves their conflicts; full
texts are attached (one report could not be found) and assessed with reasons; the editor makes the three
studies (Hardy 2012 with its registry record as a second report) and their arms; both authors extract and
assess risk of bias (RoB 1), the editor settles the consensus; the analyses are computed and judged not
poolable; the editor rates the certainty and signs it off.

Only services are called, the ones the pages call; where the worker would run a step after a commit (outcome
evaluation, comparison of extractions and assessments, recomputation of analyses), its idempotent function is
called here too, so the result does not depend on task delivery. Stages run in order, each in one transaction,
and `complete(review, until=stage)` stops after a stage (for tests and for showing a review half-way).

The outcome data are the project's illustration of what these trials report, shaped as the published trials
were (designs, doses, sample sizes); they are not a re-analysis of the trials' results."""

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from core.demo.load import Log, answer_key, work_records
from extraction.models import Discrepancy, Extraction, Study
from extraction.services import extracting, studies
from extraction.services.forms import current_form
from grading import services as rob
from grading import services_certainty as certainty
from grading.grade import LEVEL_LABELS
from grading.models import ROB1_DOMAINS, RobAssessment
from reviews.models import DuplicateGroup, Import, Record, Review
from reviews.services.duplicates import duplicate_group_split, duplicates_merge
from screening import services as screening
from screening.models import Choice, Outcome, Stage
from synthesis import services as synthesis
from synthesis.models import Analysis

NOT_POOLED = "Clinical heterogeneity: intrathecal, intravenous and subcutaneous ketamine at different doses."
AUTHORS = ("author1", "author2")
COMPARISON = {"name": "Ketamine versus placebo", "intervention": "Ketamine + opioid", "control": "Opioid + placebo"}
OUTCOMES = {
    "pain": {"name": "Pain intensity", "type": "continuous", "unit": "0-10", "direction": "lower_is_better",
             "timepoint": "End of treatment"},
    "hallucinations": {"name": "Hallucinations", "type": "dichotomous", "direction": "lower_is_better",
                       "timepoint": "During treatment"},
    "opioid": {"name": "Opioid consumption", "type": "continuous", "unit": "mg/day (morphine)",
               "direction": "lower_is_better", "timepoint": "End of treatment"},
    "withdrawals": {"name": "Withdrawals", "type": "dichotomous", "direction": "lower_is_better",
                    "timepoint": "End of study"},
}  # fmt: skip
CONTINUOUS = ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2")
DICHOTOMOUS = ("events_1", "total_1", "events_2", "total_2")


@dataclass(frozen=True)
class Trial:
    design: str
    route: str
    arms: list[tuple[str, str, str, int, int]]  # name, intervention, dose, randomised, completed
    values: dict[str, str]  # form fields (not per arm) as both authors enter them
    data: dict[str, list[tuple[str, tuple]]]  # outcome -> (subgroup, numbers in CONTINUOUS/DICHOTOMOUS order)


TRIALS = {
    "Yang 1996": Trial(
        design=Study.Design.CROSSOVER,
        route="Intrathecal",
        arms=[("Ketamine", "Intrathecal ketamine with morphine", "", 20, 20),
              ("Control", "Intrathecal morphine alone", "", 20, 20)],
        values={"methods_design": "Crossover RCT", "participants_condition": "Terminal cancer pain",
                "outcomes_reported": "Pain intensity; morphine requirements; adverse events",
                "methods_setting": "Taiwan; hospital", "outcomes_pain_scale": "NRS 0-10"},
        data={"pain": [("", (3.0, 2.0, 20, 3.9, 2.1, 20))], "opioid": [("", (1.5, 0.9, 20, 2.6, 1.3, 20))]},
    ),
    "Mercadante 2000": Trial(
        design=Study.Design.CROSSOVER,
        route="Intravenous",
        arms=[("Ketamine 0.25", "Intravenous ketamine bolus", "0.25 mg/kg", 10, 10),
              ("Ketamine 0.5", "Intravenous ketamine bolus", "0.5 mg/kg", 10, 10),
              ("Placebo", "Intravenous saline bolus", "", 10, 10)],
        values={"methods_design": "Crossover RCT", "participants_condition": "Cancer pain on oral morphine",
                "outcomes_reported": "Pain intensity; adverse events (hallucinations, drowsiness)",
                "methods_washout": "Two days between sessions", "methods_setting": "Italy; palliative care unit",
                "outcomes_pain_scale": "NRS 0-10"},
        data={"pain": [("0.25 mg/kg", (4.2, 2.0, 10, 5.0, 2.2, 10)), ("0.5 mg/kg", (3.6, 2.1, 10, 5.0, 2.2, 10))],
              "hallucinations": [("0.25 mg/kg", (1, 10, 0, 10)), ("0.5 mg/kg", (4, 10, 0, 10))]},
    ),
    "Hardy 2012": Trial(
        design=Study.Design.PARALLEL,
        route="Subcutaneous",
        arms=[("Ketamine", "Subcutaneous ketamine infusion, dose-escalated", "100, 300, 500 mg/24 h", 93, 75),
              ("Placebo", "Subcutaneous saline infusion", "", 92, 74)],
        values={"methods_design": "Parallel RCT", "participants_condition": "Refractory cancer pain",
                "outcomes_reported": "Pain response; pain intensity; opioid use; adverse events; withdrawals",
                "methods_setting": "Australia; 10 palliative care services", "methods_duration": "5 days",
                "outcomes_pain_scale": "Brief Pain Inventory 0-10"},
        data={"pain": [("", (3.9, 2.2, 75, 4.1, 2.3, 74))], "hallucinations": [("", (8, 93, 3, 92))],
              "opioid": [("", (186.0, 140.0, 75, 196.0, 150.0, 74))], "withdrawals": [("", (18, 93, 18, 92))]},
    ),
}  # fmt: skip
# Where author2's extraction differs from author1's (the editor settles both: author1's number, a value of his own).
AUTHOR2_DIFFERS = {("Mercadante 2000", "hallucinations", "0.5 mg/kg"): (3, 10, 0, 10)}
AUTHOR2_VALUES = {"Hardy 2012": {"participants_condition": "Cancer pain, moderate to severe"}}
EDITOR_VALUES = {"participants_condition": "Refractory cancer pain, moderate to severe"}
ROB_SUPPORT = {
    "random_sequence": "Described as randomised; how the sequence was generated is not reported.",
    "allocation_concealment": "Not described.",
    "blinding_participants": "Described as double-blind; how blinding was kept is not reported.",
    "blinding_outcome": "Self-reported pain; assessor blinding not described.",
    "incomplete_outcome": "Withdrawals reported without enough detail to judge their effect.",
    "selective_reporting": "No protocol available to compare with.",
    "other": "Too little information to judge.",
}
CERTAINTY = {
    "pain": {
        "risk_of_bias": "All three trials at unclear risk of bias in every domain (sequence generation, allocation "
        "concealment and blinding not described).",
        "imprecision": "Fewer than 250 participants in three small trials; the confidence intervals include both "
        "no effect and an important benefit.",
    },
    "hallucinations": {
        "risk_of_bias": "Both trials at unclear risk of bias in every domain.",
        "imprecision": "Very few events (13 in all) in two small trials; wide confidence intervals.",
    },
}


@dataclass
class Demo:
    """What the stages share: the review, the team, each work's records, and what the stages made."""

    review: Review
    users: dict[str, User]
    log: Log
    records: dict[str, list[int]] = field(default_factory=dict)  # work id -> its records
    primary: dict[str, int] = field(default_factory=dict)  # work id -> the record screened
    studies: dict[str, Study] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)
    comparison: Any = None

    @property
    def rid(self) -> int:
        return self.review.pk

    @property
    def editor(self) -> User:
        return self.users["editor"]


# --- title and abstract --------------------------------------------------------------------------------------


def stage_screening(demo: Demo) -> None:
    """The editor settles the duplicate queue, the authors screen each record, the editor resolves conflicts."""
    demo.records = work_records(demo.review)
    _settle_duplicates(demo)
    works = answer_key()["works"]
    for work in works:
        demo.primary[work["id"]] = _primary(demo, work)
    if len(set(demo.primary.values())) != len(works):
        raise ValueError("key.json: the deduplicator merged records of different works")
    conflicts = 0
    for work in works:
        record_id = demo.primary[work["id"]]
        for author in AUTHORS:
            screening.decision_create(
                user=demo.users[author], review_id=demo.rid, record_id=record_id, stage=Stage.TITLE_ABSTRACT,
                decision=work["screening"][author],
            )  # fmt: skip
        outcome = screening.outcome_evaluate(record_id=record_id, stage=Stage.TITLE_ABSTRACT)
        if outcome is not None and outcome.status == Outcome.Status.CONFLICT:
            if not work.get("resolution"):
                raise ValueError(f"key.json: {work['id']} is a conflict at title/abstract but has no resolution")
            screening.conflict_resolve(
                user=demo.editor, review_id=demo.rid, conflict_id=outcome.pk, decision=work["resolution"]
            )
            conflicts += 1
    demo.log(f"Title/abstract: {len(works)} records screened by author1 and author2; {conflicts} conflicts resolved")


def _settle_duplicates(demo: Demo) -> None:
    """Pairs the engine queued: merged where the key says they are one work, kept apart otherwise."""
    work_of = {record_id: work_id for work_id, ids in demo.records.items() for record_id in ids}
    pending = DuplicateGroup.objects.filter(review=demo.review, status=DuplicateGroup.Status.PENDING)
    merged = split = 0
    for group_id in list(pending.values_list("pk", flat=True).order_by("pk")):
        group = pending.filter(pk=group_id).first()  # an earlier merge may have settled it
        if group is None:
            continue
        works = {work_of.get(r) for r in group.records.values_list("pk", flat=True)}
        work_id = works.pop() if len(works) == 1 else None
        if work_id is not None:
            duplicates_merge(user=demo.editor, review_id=demo.rid, record_ids=demo.records[work_id])
            merged += 1
        else:
            duplicate_group_split(user=demo.editor, review_id=demo.rid, group_id=group_id)
            split += 1
    demo.log(f"Duplicates: the editor merged {merged} queued pair(s) and kept {split} apart")


def _primary(demo: Demo, work: dict[str, Any]) -> int:
    """The record a work is screened through: the primary its copies point to."""
    ids = demo.records[work["id"]]
    heads = {dup or pk for pk, dup in Record.objects.filter(pk__in=ids).values_list("pk", "duplicate_of_id")}
    if len(heads) != 1:
        raise ValueError(f"key.json: the records of {work['id']} ({work['title'][:60]}) are not one publication")
    return heads.pop()


# --- full text -----------------------------------------------------------------------------------------------


def stage_fulltext(demo: Demo) -> None:
    """A PDF for each record on to full text (one report not found); both authors assess it."""
    reaching = set(
        Outcome.objects.filter(review=demo.review, stage=Stage.TITLE_ABSTRACT)
        .exclude(status=Outcome.Status.CONFLICT)
        .exclude(decision=Choice.EXCLUDE)
        .values_list("record_id", flat=True)
    )
    assessed = excluded = 0
    for work in answer_key()["works"]:
        record_id = demo.primary[work["id"]]
        if (record_id in reaching) != bool(work.get("fulltext")):
            raise ValueError(f"key.json: {work['id']} {'reaches' if record_id in reaching else 'does not reach'} "
                             "full text, unlike its 'fulltext' entry")  # fmt: skip
        if record_id not in reaching:
            continue
        decision, reason = work["fulltext"]["decision"], work["fulltext"].get("reason", "")
        if decision == "not_retrieved":
            screening.fulltext_not_retrieved(
                user=demo.users["author1"], review_id=demo.rid, record_id=record_id,
                note="Requested from the library and from the authors; not obtained.",
            )  # fmt: skip
            continue
        record = Record.objects.get(pk=record_id)
        pdf = SimpleUploadedFile(f"{work['id']}.pdf", placeholder_pdf(record), content_type="application/pdf")
        screening.fulltext_upload(user=demo.users["author1"], review_id=demo.rid, record_id=record_id, file=pdf)
        for author in AUTHORS:
            screening.decision_create(
                user=demo.users[author], review_id=demo.rid, record_id=record_id, stage=Stage.FULL_TEXT,
                decision=decision, reason=reason if decision == Choice.EXCLUDE else "",
            )  # fmt: skip
        screening.outcome_evaluate(record_id=record_id, stage=Stage.FULL_TEXT)
        assessed += 1
        excluded += decision == Choice.EXCLUDE
    demo.log(f"Full text: {assessed} reports assessed, {excluded} excluded with reasons, 1 not retrieved")


def placeholder_pdf(record: Record) -> bytes:
    """A one-page PDF naming the record: the demo holds no publisher's text."""
    authors = ", ".join(str(a) for a in (record.authors or [])[:6])
    lines = [
        "Sieve demo: placeholder for the full text of",
        "",
        *textwrap.wrap(record.title or "(no title)", 85),
        *textwrap.wrap(authors, 85),
        " ".join(str(p) for p in (record.journal, record.year or "", record.registry_id) if p),
        "",
        "The publisher's text is not part of the demo.",
    ]

    def text(line: str) -> str:
        safe = line.encode("latin-1", "replace").decode("latin-1")
        return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 11 Tf 56 780 Td 15 TL " + " ".join(f"({text(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- studies and extraction ----------------------------------------------------------------------------------


def stage_extraction(demo: Demo) -> None:
    """The editor makes the studies from the included reports, their arms, the comparison and the outcomes; both
    authors extract each study; the worker compares; the editor settles what they disagree on."""
    editor, rid = demo.editor, demo.rid
    _studies(demo)
    demo.comparison = studies.comparison_create(user=editor, review_id=rid, **COMPARISON)
    demo.outcomes = {key: studies.outcome_create(user=editor, review_id=rid, **o) for key, o in OUTCOMES.items()}
    form = current_form(demo.review)
    for label, study in demo.studies.items():
        trial = TRIALS[label]
        arms = {}
        for name, intervention, dose, randomised, completed in trial.arms:
            arms[name] = studies.arm_create(
                user=editor, review_id=rid, study_id=study.pk, name=name, intervention=intervention, dose=dose,
                route=trial.route, randomised=randomised, completed=completed,
            )  # fmt: skip
        for author in AUTHORS:
            _extract(demo, demo.users[author], study, trial, arms)
        extracting.compare(study_id=study.pk, form_id=form.pk)
    settled = 0
    for discrepancy in Discrepancy.objects.filter(review=demo.review, status=Discrepancy.Status.OPEN).order_by("pk"):
        if discrepancy.key.startswith("field:") and discrepancy.key.split(":")[1] in EDITOR_VALUES:
            value = EDITOR_VALUES[discrepancy.key.split(":")[1]]
            extracting.discrepancy_resolve(user=editor, review_id=rid, discrepancy_id=discrepancy.pk, value=value)
        else:
            extracting.discrepancy_resolve(user=editor, review_id=rid, discrepancy_id=discrepancy.pk, take="author1")
        settled += 1
    demo.log(f"Extraction: {len(demo.studies)} studies extracted by author1 and author2; the editor settled "
             f"{settled} discrepancies")  # fmt: skip


def _studies(demo: Demo) -> None:
    """One study per trial of the key, its journal article the primary report, registry records further reports."""
    included = set(
        Outcome.objects.filter(review=demo.review, stage=Stage.FULL_TEXT, decision=Choice.INCLUDE).values_list(
            "record_id", flat=True
        )
    )
    by_trial: dict[str, list[Record]] = {}
    for work in answer_key()["works"]:
        record_id = demo.primary.get(work["id"])
        if work.get("trial") and record_id in included:
            by_trial.setdefault(work["trial"], []).append(Record.objects.select_related("batch").get(pk=record_id))
    for label, records in by_trial.items():
        records.sort(key=lambda r: (r.batch.source_kind == Import.SourceKind.REGISTER, r.pk))
        demo.studies[label] = studies.study_create(
            user=demo.editor, review_id=demo.rid, label=label, design=TRIALS[label].design,
            record_ids=[r.pk for r in records],
        )  # fmt: skip
    reports = sum(len(r) for r in by_trial.values())
    demo.log(f"Studies: {', '.join(demo.studies)} made from {reports} included reports")


def _extract(demo: Demo, user: User, study: Study, trial: Trial, arms: dict[str, Any]) -> None:
    rid = demo.rid
    extraction = extracting.extraction_start(user=user, review_id=rid, study_id=study.pk)
    values: dict[str, Any] = dict(trial.values)
    if user.username == "author2":
        values |= AUTHOR2_VALUES.get(study.label, {})
    for name, intervention, dose, randomised, completed in trial.arms:
        arm_id = arms[name].pk
        values |= {
            f"participants_randomised@{arm_id}": randomised,
            f"participants_completed@{arm_id}": completed,
            f"interventions_description@{arm_id}": intervention,
            f"interventions_route@{arm_id}": trial.route,
        }
        if dose:
            values[f"interventions_dose@{arm_id}"] = dose
    extracting.extraction_save(user=user, review_id=rid, extraction_id=extraction.pk, version=None, values=values)
    rows = []
    for key, data in trial.data.items():
        outcome = demo.outcomes[key]
        names = DICHOTOMOUS if outcome.type == "dichotomous" else CONTINUOUS
        for subgroup, numbers in data:
            if user.username == "author2":
                numbers = AUTHOR2_DIFFERS.get((study.label, key, subgroup), numbers)
            rows.append({"comparison": demo.comparison.pk, "outcome": outcome.pk, "subgroup": subgroup,
                         **dict(zip(names, numbers, strict=True))})  # fmt: skip
    extracting.outcome_data_save(user=user, review_id=rid, extraction_id=extraction.pk, version=None, rows=rows)
    extracting.extraction_set_status(
        user=user, review_id=rid, extraction_id=extraction.pk, version=None, status=Extraction.Status.COMPLETE
    )


# --- risk of bias --------------------------------------------------------------------------------------------


def stage_rob(demo: Demo) -> None:
    """RoB 1 by both authors, every domain unclear; the worker's comparison makes the consensus."""
    owner, rid = demo.users["author1"], demo.rid
    setting = rob.settings_for(demo.review)
    rob.settings_update(user=owner, review_id=rid, version=setting.version, tool="rob1", assessors_per_study=2)
    for study in demo.studies.values():
        for author in AUTHORS:
            user = demo.users[author]
            assessment = rob.assessment_start(user=user, review_id=rid, study_id=study.pk)
            for domain in ROB1_DOMAINS:
                rob.judgement_save(
                    user=user, review_id=rid, assessment_id=assessment.pk, version=None, domain=domain,
                    judgement="unclear", support=ROB_SUPPORT[domain],
                )  # fmt: skip
            rob.overall_save(user=user, review_id=rid, assessment_id=assessment.pk, version=None, overall="unclear")
            rob.assessment_set_status(
                user=user, review_id=rid, assessment_id=assessment.pk, version=None,
                status=RobAssessment.Status.COMPLETE,
            )  # fmt: skip
        rob.compare(study_id=study.pk, outcome_id=None)
    agreed = RobAssessment.objects.filter(
        review=demo.review, assessor__isnull=True, status=RobAssessment.Status.COMPLETE
    ).count()
    demo.log(f"Risk of bias (RoB 1): {len(demo.studies)} studies assessed by both authors; {agreed} consensus "
             "assessments, every domain unclear")  # fmt: skip


# --- synthesis and certainty ---------------------------------------------------------------------------------


def stage_synthesis(demo: Demo) -> None:
    """The analyses computed from the consensus, then judged not poolable (clinical heterogeneity)."""
    synthesis.recompute_review(review_id=demo.rid)
    for analysis in Analysis.objects.filter(review=demo.review).order_by("pk"):
        synthesis.analysis_update(
            user=demo.editor, review_id=demo.rid, analysis_id=analysis.pk, version=analysis.version, pooled=False,
            not_pooled_reason=NOT_POOLED,
        )  # fmt: skip
    synthesis.recompute_review(review_id=demo.rid)
    analyses = Analysis.objects.filter(review=demo.review)
    stale = analyses.exclude(status=Analysis.Status.CURRENT).count()
    if stale:
        raise RuntimeError(f"{stale} analyses of the demo were not computed")
    demo.log(f"Analyses: {analyses.count()} computed, not pooled ({NOT_POOLED})")


def stage_certainty(demo: Demo) -> None:
    """The editor rates pain intensity and hallucinations very low (risk of bias -1, imprecision -2), signs off."""
    for key, explanations in CERTAINTY.items():
        outcome = demo.outcomes[key]
        rating = certainty.certainty_save(
            user=demo.editor, review_id=demo.rid, comparison_id=demo.comparison.pk, outcome_id=outcome.pk,
            version=0, changes={"risk_of_bias": -1, "imprecision": -2}, explanations=explanations,
            importance="critical",
        )  # fmt: skip
        rating = certainty.certainty_sign_off(
            user=demo.editor, review_id=demo.rid, comparison_id=demo.comparison.pk, outcome_id=outcome.pk,
            version=rating.version,
        )  # fmt: skip
        demo.log(f"Certainty of {outcome.name}: {LEVEL_LABELS[rating.level].lower()}, signed off by the editor")


STAGES: dict[str, Callable[[Demo], None]] = {
    "screening": stage_screening,
    "fulltext": stage_fulltext,
    "extraction": stage_extraction,
    "rob": stage_rob,
    "synthesis": stage_synthesis,
    "certainty": stage_certainty,
}


def complete(review: Review, *, users: dict[str, User], until: str = "certainty", log: Log = print) -> None:
    """Run the stages in order up to and including `until`, each in one transaction (all of a stage or none)."""
    if until not in STAGES:
        raise ValueError(f"No stage {until!r}; choose one of {', '.join(STAGES)}.")
    demo = Demo(review=review, users=users, log=log)
    for name, stage in STAGES.items():
        with transaction.atomic():
            stage(demo)
        if name == until:
            return
