"""Outcome-summary writes: analysis settings (editor, owner), and the worker's recomputation of stale analyses
from the consensus outcome data.

A change of consensus data or of a setting marks the analyses it touches stale (`generation` + 1) and queues
one recomputation of the review, however many edits come in a burst (`SynthesisQueue`). The worker computes
each stale analysis from the inputs as they are then and stores the result as current only if no change came
in meanwhile (same `generation`); otherwise the analysis stays stale and the queued run computes it again. A
worker that dies mid-task leaves the analysis stale with its previous result (never a wrong current one); the
task is redelivered (acks late) and the periodic sweep queues any analysis left stale."""

import hashlib
import json
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from core.exceptions import ServiceConflict
from core.tasks import send_on_commit
from extraction.models import Outcome, OutcomeData
from reviews.models import Membership
from reviews.selectors import review_get_for_user
from synthesis.models import Analysis, SynthesisQueue

if TYPE_CHECKING:
    from synthesis.stats import StudyData

AnyUser = User | AnonymousUser
Role = Membership.Role
Measure, Model, Method = Analysis.Measure, Analysis.Model, Analysis.Method

DEFAULT_MEASURE = {"dichotomous": Measure.RR, "continuous": Measure.MD, "giv": Measure.GIV}
MEASURES_FOR = {"dichotomous": ("RR", "OR", "RD"), "continuous": ("MD", "SMD"), "giv": ("GIV",)}
FIXED_METHODS = {"RR": ("MH", "IV"), "OR": ("MH", "IV", "PETO"), "RD": ("MH", "IV")}
RANDOM_METHODS = ("DL", "REML", "PM", "ML")
SETTINGS_FIELDS = ("effect_measure", "model", "method", "hksj", "giv_ratio", "pooled", "not_pooled_reason")


# --- marking stale and queueing ---------------------------------------------------------------------------------


def _queue(review_id: int) -> None:
    """Queue one recomputation of the review's stale analyses, unless one is queued already (a burst of edits
    enqueues once). After commit, so the worker reads what this transaction wrote."""
    SynthesisQueue.objects.get_or_create(review_id=review_id)
    turned = SynthesisQueue.objects.filter(review_id=review_id, queued=False).update(
        queued=True, queued_at=timezone.now()
    )
    if turned:
        from synthesis.tasks import recompute_task

        delay = settings.SIEVE_SYNTHESIS_DELAY_SECONDS
        send_on_commit(recompute_task, review_id, fallback="sweep", countdown=delay)  # synthesis.sweep


def _mark(analyses: Any) -> None:
    analyses.update(status=Analysis.Status.STALE, generation=F("generation") + 1, changed_at=timezone.now())


def data_changed(*, comparison_id: int, outcome_id: int) -> None:
    """Consensus data of a comparison and outcome changed: its analysis (made with the defaults if it has none
    yet) is stale and a recomputation queued."""
    outcome = Outcome.objects.filter(pk=outcome_id).only("review_id", "type").first()
    if outcome is None:
        return
    Analysis.objects.get_or_create(
        comparison_id=comparison_id, outcome_id=outcome_id,
        defaults={"review_id": outcome.review_id, "effect_measure": DEFAULT_MEASURE[outcome.type]},
    )  # fmt: skip
    _mark(Analysis.objects.filter(comparison_id=comparison_id, outcome_id=outcome_id))
    _queue(outcome.review_id)


def review_changed(*, review_id: int, outcome_id: int | None = None, comparison_id: int | None = None) -> None:
    """Something every summary of the review shows changed (a study's label, an outcome's or comparison's name):
    its analyses (of that outcome or comparison only, when given) are stale."""
    analyses = Analysis.objects.filter(review_id=review_id)
    if outcome_id is not None:
        analyses = analyses.filter(outcome_id=outcome_id)
    if comparison_id is not None:
        analyses = analyses.filter(comparison_id=comparison_id)
    if analyses.exists():
        _mark(analyses)
        _queue(review_id)


# --- settings -----------------------------------------------------------------------------------------------------


def _check_settings(analysis: Analysis) -> None:
    outcome_type = analysis.outcome.type
    measure, model, method = analysis.effect_measure, analysis.model, analysis.method
    if measure not in MEASURES_FOR[outcome_type]:
        raise ValidationError(
            {"effect_measure": f"A {outcome_type} outcome takes {' or '.join(MEASURES_FOR[outcome_type])}."}
        )
    if model not in Model.values:
        raise ValidationError({"model": "Choose fixed or random."})
    allowed = FIXED_METHODS.get(measure, ("IV",)) if model == Model.FIXED else RANDOM_METHODS
    if method not in allowed:
        raise ValidationError(
            {"method": f"A {Model(model).label.lower()} {measure} analysis takes {', '.join(allowed)}."}
        )
    if analysis.hksj and model != Model.RANDOM:
        raise ValidationError({"hksj": "The Hartung-Knapp-Sidik-Jonkman interval is for random-effects models."})
    if analysis.giv_ratio and measure != Measure.GIV:
        raise ValidationError({"giv_ratio": "Only generic inverse variance estimates can be log ratios."})
    if not analysis.pooled and not analysis.not_pooled_reason.strip():
        raise ValidationError({"not_pooled_reason": "Say why pooling is not appropriate (it goes into the summary)."})


@transaction.atomic
def analysis_update(
    *, user: AnyUser, review_id: int, analysis_id: int | str, version: int | None, **fields: Any
) -> Analysis:
    """Change an analysis's settings (editor, owner). A stale `version` is refused; the summary is recomputed."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.EDITOR)
    try:
        analysis = (
            Analysis.objects.select_for_update().select_related("outcome").get(review=review, pk=int(analysis_id))
        )
    except (Analysis.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such analysis in this review.") from exc
    if version is not None and int(version) != analysis.version:
        raise ServiceConflict(
            f"Someone else changed this analysis's settings since you opened them (your version {version}, now "
            f"{analysis.version}). Reload and make your change again."
        )
    unknown = sorted(set(fields) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationError({name: "Not a setting of an analysis." for name in unknown})
    for name, value in fields.items():
        setattr(analysis, name, value.strip() if isinstance(value, str) else value)
    if "effect_measure" in fields and "method" not in fields:
        # A new measure keeps the model; the method follows where the old one does not fit.
        allowed = FIXED_METHODS.get(analysis.effect_measure, ("IV",)) if analysis.model == "fixed" else RANDOM_METHODS
        if analysis.method not in allowed:
            analysis.method = allowed[0]
    if "model" in fields and "method" not in fields:
        analysis.method = Method.REML if analysis.model == Model.RANDOM else Method.IV
        if "hksj" not in fields:  # asked for with a fixed model, it is refused below rather than dropped
            analysis.hksj = analysis.hksj and analysis.model == Model.RANDOM
    if analysis.pooled:
        analysis.not_pooled_reason = ""
    _check_settings(analysis)
    analysis.version += 1
    analysis.updated_by = cast(User, user)
    analysis._history_user = cast(User, user)  # type: ignore[attr-defined]
    analysis.save()
    _mark(Analysis.objects.filter(pk=analysis.pk))
    _queue(review.pk)
    analysis.refresh_from_db()
    return analysis


# --- computing (the worker) -----------------------------------------------------------------------------------------


NUMBERS = ("events_1", "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate", "se")


def consensus_inputs(*, review_id: int, analyses: list[Analysis]) -> dict[tuple[int, int], list["StudyData"]]:
    """The consensus outcome data of these analyses' comparisons and outcomes, by (comparison, outcome), as the
    statistics take it: for each study, the rows of its consensus extraction with the newest form version that
    has any. One query for the lot, read as plain tuples (no model instances: a review may have thousands)."""
    from synthesis import stats  # numpy and scipy load in the worker, not in every web process

    wanted = {(a.comparison_id, a.outcome_id) for a in analyses}
    rows = (
        OutcomeData.objects.filter(
            extraction__review_id=review_id,
            extraction__reviewer__isnull=True,
            outcome_id__in={o for _, o in wanted},
            comparison_id__in={c for c, _ in wanted},
        )  # fmt: skip
        .order_by("extraction__study__label", "extraction__study_id", "-extraction__form__number", "subgroup", "id")
        .values_list(
            "comparison_id",
            "outcome_id",
            "extraction__study_id",
            "extraction__study__label",
            "extraction__form__number",
            "subgroup",
            *NUMBERS,
        )  # fmt: skip
    )
    newest: dict[tuple[int, int, int], int] = {}
    found: dict[tuple[int, int], list[StudyData]] = {pair: [] for pair in wanted}
    for comparison_id, outcome_id, study_id, label, form_number, subgroup, *numbers in rows:
        pair = (comparison_id, outcome_id)
        if pair not in wanted or newest.setdefault((*pair, study_id), form_number) != form_number:
            continue
        given: dict[str, Any] = {
            name: None if v is None else int(v) if name.startswith(("events", "total")) else float(v)
            for name, v in zip(NUMBERS, numbers, strict=True)
        }
        found[pair].append(stats.StudyData(label=label, subgroup=subgroup, **given))
    return found


def inputs_hash(analysis: Analysis, studies: list["StudyData"]) -> str:
    payload = {
        "settings": [getattr(analysis, name) for name in SETTINGS_FIELDS],
        "studies": [sorted(vars(s).items()) for s in studies],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


NEEDED = {
    "dichotomous": ("events_1", "total_1", "events_2", "total_2"),
    "continuous": ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"),
    "giv": ("estimate", "se"),
}
SHOWN = ("events_1", "total_1", "events_2", "total_2", "mean_1", "sd_1", "mean_2", "sd_2", "estimate")


def _incomplete_row(study: "StudyData", missing: list[str]) -> dict[str, Any]:
    """A study row shown but not analysed: its data are not all in the consensus yet (RevMan: not estimable)."""
    row: dict[str, Any] = {
        "label": study.label, "subgroup": study.subgroup, "effect": None, "ci_low": None, "ci_high": None,
        "yi": None, "se": None, "weight": None, "corrected": False,
        "excluded": f"incomplete data ({', '.join(missing)} missing)",
    }  # fmt: skip
    row |= {name: getattr(study, name) for name in SHOWN}
    row["se_given"] = study.se
    return row


def summarise(analysis: Analysis, studies: list["StudyData"]) -> dict[str, Any]:
    """The summary of these studies under the analysis's settings (pure arithmetic in synthesis.stats). A study
    whose consensus data are incomplete (a number still in discrepancy, or not entered yet) is listed, left out of
    the analysis, and named in a note, rather than making the whole summary fail."""
    from synthesis import stats

    needed = NEEDED[analysis.outcome.type]
    complete: list[tuple[StudyData, list[str]]] = []
    incomplete: list[tuple[StudyData, list[str]]] = []
    for study in studies:
        missing = [name for name in needed if getattr(study, name) is None]
        (incomplete if missing else complete).append((study, missing))
    if not complete:
        raise stats.StatsInputError(
            "No study has complete data for this outcome yet: "
            + "; ".join(f"{_row_name(s)} lacks {', '.join(m)}" for s, m in incomplete[:5])
            + "."
        )
    result = stats.analyse(
        [s for s, _ in complete], measure=analysis.effect_measure, model=analysis.model, method=analysis.method,
        hksj=analysis.hksj, pooled=analysis.pooled, giv_ratio=analysis.giv_ratio,
    )  # fmt: skip
    if incomplete:
        result["per_study"] = [*result["per_study"], *(_incomplete_row(s, m) for s, m in incomplete)]
        names = ", ".join(_row_name(s) for s, _ in incomplete)
        result["notes"] = [
            *result.get("notes", []),
            f"Left out until their data are complete: {names}.",
        ]
    repeated = sorted(label for label, n in Counter(s.label for s, _ in complete).items() if n > 1)
    if repeated:
        # The Handbook's unit-of-analysis error (23.3.4): the doses of a multi-arm trial against one control group
        # count that group twice. Said, not changed: only the reviewers know whether the rows share a group.
        result["notes"] = [
            *result.get("notes", []),
            f"{', '.join(repeated)} give{'s' if len(repeated) == 1 else ''} more than one row: where the rows share "
            "a group (two doses against one control), its participants count twice in the totals and the pooled "
            "estimate. Split the shared group between the rows, or combine the rows into one (Cochrane Handbook "
            "23.3.4).",
        ]
    if not analysis.pooled:
        result["notes"] = [f"Not pooled: {analysis.not_pooled_reason}", *result.get("notes", [])]
    return result


def _row_name(study: "StudyData") -> str:
    return f"{study.label} ({study.subgroup})" if study.subgroup else study.label


def compute(*, analysis: Analysis, studies: list["StudyData"]) -> str:
    """Compute one analysis (as read at the start of the run, with its `generation`) from these inputs; store the
    result as current unless the inputs changed meanwhile. Idempotent: the same inputs (by hash) are not computed
    twice."""
    from synthesis import stats

    generation = analysis.generation
    if not studies:
        Analysis.objects.filter(pk=analysis.pk, generation=generation).delete()
        return "no data"
    digest = inputs_hash(analysis, studies)
    fields: dict[str, Any] = {"status": Analysis.Status.CURRENT, "input_hash": digest}
    if digest != analysis.input_hash or analysis.result is None and not analysis.error:
        try:
            fields |= {"result": summarise(analysis, studies), "error": "", "computed_at": timezone.now()}
        except stats.StatsInputError as exc:
            fields |= {"result": None, "error": str(exc), "computed_at": timezone.now()}
    stored = Analysis.objects.filter(pk=analysis.pk, generation=generation).update(**fields)
    return "current" if stored else "changed meanwhile"


def recompute_review(*, review_id: int) -> dict[str, int]:
    """Compute every stale analysis of the review (the queued task). The queue mark is cleared first, so an edit
    that lands during the run queues the next one. The analyses (with their generation) are read before their
    data: an edit in between raises the generation, so its analysis is not stored as current."""
    SynthesisQueue.objects.filter(review_id=review_id).update(queued=False, runs=F("runs") + 1)
    stale = list(
        Analysis.objects.filter(review_id=review_id, status=Analysis.Status.STALE)
        .select_related("outcome", "comparison")
        .order_by("id")
    )
    inputs = consensus_inputs(review_id=review_id, analyses=stale)
    counts: dict[str, int] = {}
    for analysis in stale:
        outcome = compute(analysis=analysis, studies=inputs[(analysis.comparison_id, analysis.outcome_id)])
        counts[outcome] = counts.get(outcome, 0) + 1
    if counts.get("changed meanwhile"):
        _queue(review_id)
    return counts


def sweep(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue the reviews with an analysis left stale (a lost task, a killed worker). Periodic."""
    cutoff = timezone.now() - older_than
    review_ids = set(
        Analysis.objects.filter(status=Analysis.Status.STALE, changed_at__lt=cutoff).values_list("review_id", flat=True)
    )
    for review_id in review_ids:
        SynthesisQueue.objects.filter(review_id=review_id, queued_at__lt=cutoff).update(queued=False)
        with transaction.atomic():
            _queue(review_id)
    return len(review_ids)
