"""Screening reads, scoped to the asking member's role. Blinding lives here: while a review is blinded, a
reviewer's reads hold only their own decisions, and nothing says whether a record is in conflict."""

from dataclasses import dataclass
from itertools import combinations
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from reviews.models import Import, Membership, Record, Review, role_at_least
from screening.agreement import agreement
from screening.models import (
    Choice,
    Decision,
    FullText,
    Outcome,
    PriorityModel,
    RecordScore,
    ScreeningSettings,
    Stage,
)
from screening.prisma import PrismaCounts
from screening.services import settings_for

AnyUser = User | AnonymousUser
Role = Membership.Role


def sees_all(review: Review, settings: ScreeningSettings | None = None) -> bool:
    """Whether the member (review.my_role, set by review_get_for_user) may see every reviewer's decisions.
    `settings`: the review's screening settings when the caller has read them already (one query fewer)."""
    if role_at_least(review.my_role, Role.EDITOR):
        return True
    return not (settings or settings_for(review)).blinded


def screenable_records(*, review: Review, stage: str) -> QuerySet[Record]:
    """The records screened at a stage: one per publication (duplicates are screened through their primary);
    at full text, those whose title/abstract outcome is include or maybe, less the reports not retrieved."""
    records = Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED, duplicate_of__isnull=True)
    if stage == Stage.FULL_TEXT:
        passed = Outcome.objects.filter(
            record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, decision__in=[Choice.INCLUDE, Choice.MAYBE]
        )
        gone = FullText.objects.filter(record=OuterRef("pk"), not_retrieved=True)
        records = records.filter(Exists(passed), ~Exists(gone))
    return records


def queue_for(*, review: Review, user: AnyUser, stage: str, after: int | None = None) -> QuerySet[Record]:
    """Records still waiting for this reviewer at this stage: not decided by them, outcome not settled. Each
    test is an indexed NOT EXISTS, so a step costs the same queries in a review of any size. `after`: only
    records after that id, said to the subqueries too, so that PostgreSQL's anti-joins start there instead of
    reading every decision from the first record on."""
    mine = Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=cast(User, user))
    settled = Outcome.objects.filter(record=OuterRef("pk"), stage=stage).exclude(status=Outcome.Status.CONFLICT)
    records = screenable_records(review=review, stage=stage)
    if after is not None:
        mine, settled, records = (
            mine.filter(record_id__gt=after),
            settled.filter(record_id__gt=after),
            records.filter(id__gt=after),
        )
    return records.filter(~Exists(mine), ~Exists(settled)).order_by("id")


def priority_active(*, review: Review, stage: str) -> PriorityModel | None:
    """The review's priority model when it orders this stage's queue (title/abstract, switched on, trained), in
    one query: a trained model implies the settings row (outcomes are evaluated through it)."""
    if stage != Stage.TITLE_ABSTRACT:
        return None
    return PriorityModel.objects.filter(review=review, ready=True, review__screening_settings__priority=True).first()


def next_record(
    *, review: Review, user: AnyUser, stage: str, plain: bool = False, ranked: bool | None = None
) -> Record | None:
    """The next record for this reviewer: the one the priority model rates most likely relevant when it is
    active (and the reviewer has not chosen plain order), else the next in import order (`_next_in_order`).
    `ranked`: whether `priority_active` found a model, when the caller has asked it already (one query fewer)."""
    if ranked is None:
        ranked = not plain and priority_active(review=review, stage=stage) is not None
    if not plain and ranked:
        found = _first_ranked(review.pk, user.pk, stage)
        if found is not None:
            return Record.objects.select_related("batch").get(pk=found)
    return _next_in_order(review=review, user=user, stage=stage)


_RANKED_SQL = f"""
SELECT s.record_id FROM {RecordScore._meta.db_table} s JOIN {Record._meta.db_table} r ON r.id = s.record_id
WHERE s.review_id = %(review)s AND r.duplicate_of_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM {Decision._meta.db_table} d WHERE d.record_id = s.record_id AND d.stage = %(stage)s
                  AND d.reviewer_id = %(user)s)
  AND NOT EXISTS (SELECT 1 FROM {Outcome._meta.db_table} o WHERE o.record_id = s.record_id AND o.stage = %(stage)s
                  AND o.status <> %(conflict)s)
ORDER BY s.score DESC, s.record_id LIMIT 1
"""  # noqa: S608 - table names from the models, values as parameters


def _first_ranked(review_id: int, user_id: int | None, stage: str) -> int | None:
    return _first_id(
        _RANKED_SQL, {"review": review_id, "stage": stage, "user": user_id, "conflict": Outcome.Status.CONFLICT}
    )


def _first_id(sql: str, params: dict[str, int | str | None]) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _next_in_order(*, review: Review, user: AnyUser, stage: str) -> Record | None:
    """The next record for this reviewer, in import order: the first of `queue_for`, found from just after the last
    record they decided (most steps find it at once, however far into a 100,000-record review they are), then
    from the start for any left behind (taken back with undo).

    The query is written out in SQL because it runs on every screening step and Django took longer to build
    and compile it than PostgreSQL took to answer it; `test_next_record_is_the_first_of_the_queue` holds it to
    `queue_for`."""
    last = (
        Decision.objects.filter(reviewer=cast(User, user), stage=stage, review=review)
        .order_by("-record_id")
        .values_list("record_id", flat=True)
        .first()
    )
    found = None
    if last is not None:
        found = _first_waiting(review.pk, user.pk, stage, after=last)
    if found is None:
        found = _first_waiting(review.pk, user.pk, stage, after=0)
    return None if found is None else Record.objects.select_related("batch").get(pk=found)


_NEXT_SQL = f"""
SELECT r.id FROM {Record._meta.db_table} r JOIN {Import._meta.db_table} i ON i.id = r.batch_id
WHERE r.review_id = %(review)s AND i.status = %(succeeded)s AND r.duplicate_of_id IS NULL AND r.id > %(after)s
  AND NOT EXISTS (SELECT 1 FROM {Decision._meta.db_table} d WHERE d.record_id = r.id AND d.stage = %(stage)s
                  AND d.reviewer_id = %(user)s AND d.record_id > %(after)s)
  AND NOT EXISTS (SELECT 1 FROM {Outcome._meta.db_table} o WHERE o.record_id = r.id AND o.stage = %(stage)s
                  AND o.status <> %(conflict)s AND o.record_id > %(after)s)
  {{passed}}
ORDER BY r.id LIMIT 1
"""  # noqa: S608 - table names from the models, values as parameters
_PASSED_SQL = f"""AND EXISTS (SELECT 1 FROM {Outcome._meta.db_table} t WHERE t.record_id = r.id
                  AND t.stage = %(title_abstract)s AND t.decision IN (%(include)s, %(maybe)s))
  AND NOT EXISTS (SELECT 1 FROM {FullText._meta.db_table} f WHERE f.record_id = r.id AND f.not_retrieved)"""  # noqa: S608


def _first_waiting(review_id: int, user_id: int | None, stage: str, *, after: int) -> int | None:
    sql = _NEXT_SQL.format(passed=_PASSED_SQL if stage == Stage.FULL_TEXT else "")
    params: dict[str, int | str | None] = {
        "review": review_id, "succeeded": Import.Status.SUCCEEDED, "after": after, "stage": stage, "user": user_id,
        "conflict": Outcome.Status.CONFLICT, "title_abstract": Stage.TITLE_ABSTRACT, "include": Choice.INCLUDE,
        "maybe": Choice.MAYBE,
    }  # fmt: skip
    return _first_id(sql, params)


def decision_list(*, review: Review, user: AnyUser, stage: str | None = None) -> QuerySet[Decision]:
    """Decisions the member may see: their own while blinded (reviewers), all otherwise."""
    decisions = Decision.objects.filter(review=review).select_related("reviewer", "record")
    if not sees_all(review):
        decisions = decisions.filter(reviewer=cast(User, user))
    if stage:
        decisions = decisions.filter(stage=stage)
    return decisions.order_by("-updated_at", "-id")


def conflict_list(*, review: Review, stage: str | None = None, open_only: bool = True) -> QuerySet[Outcome]:
    """Conflicts for the editor (the caller has checked the editor role), with their decisions."""
    outcomes = Outcome.objects.filter(review=review).select_related("record", "resolved_by")
    outcomes = (
        outcomes.filter(status=Outcome.Status.CONFLICT) if open_only else outcomes.exclude(conflict_found_at=None)
    )
    if stage:
        outcomes = outcomes.filter(stage=stage)
    return outcomes.order_by("conflict_found_at", "id")


def decisions_of(outcomes: list[Outcome]) -> dict[tuple[int, str], list[Decision]]:
    """The decisions on the records of these outcomes, in one query, by (record, stage)."""
    found: dict[tuple[int, str], list[Decision]] = {}
    if not outcomes:
        return found
    query = Q()
    for outcome in outcomes:
        query |= Q(record_id=outcome.record_id, stage=outcome.stage)
    for decision in Decision.objects.filter(query).select_related("reviewer").order_by("created_at"):
        found.setdefault((decision.record_id, decision.stage), []).append(decision)
    return found


@dataclass(frozen=True)
class Progress:
    mine: int  # records I have decided at this stage
    remaining_for_me: int  # records still waiting for me
    total: int  # records screened at this stage
    decisions_needed: int  # total x reviewers needed
    decisions_made: int | None  # by all reviewers; None for a reviewer while blinded (it moves when others decide)

    @property
    def percent_mine(self) -> int:
        done = self.mine + self.remaining_for_me
        return round(100 * self.mine / done) if done else 100

    @property
    def percent_review(self) -> int:
        if self.decisions_made is None:
            return 0
        return min(100, round(100 * self.decisions_made / self.decisions_needed)) if self.decisions_needed else 100


def progress(*, review: Review, user: AnyUser, stage: str, settings: ScreeningSettings | None = None) -> Progress:
    """`settings`: the review's screening settings when the caller has read them already (one query fewer).

    The four counts come from one query written out in SQL, as `_next_in_order`'s: it runs twice on every
    screening step, and Django took longer to build the counts' queries than PostgreSQL took to answer them.
    It is `screenable_records(...).count()`, `queue_for(...).count()` and the stage's decisions (all, mine);
    screening/tests/test_progress_sql.py holds it to them."""
    settings = settings or settings_for(review)
    sql = _PROGRESS_SQL.format(passed=_PASSED_SQL if stage == Stage.FULL_TEXT else "")
    params: dict[str, int | str | None] = {
        "review": review.pk, "succeeded": Import.Status.SUCCEEDED, "stage": stage, "user": user.pk,
        "conflict": Outcome.Status.CONFLICT, "title_abstract": Stage.TITLE_ABSTRACT, "include": Choice.INCLUDE,
        "maybe": Choice.MAYBE,
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        total, remaining, made_all, made_mine = cursor.fetchone()
    return Progress(
        mine=made_mine,
        remaining_for_me=remaining,
        total=total,
        decisions_needed=total * settings.reviewers_needed,
        decisions_made=made_all if sees_all(review, settings) else None,
    )


_SCREENABLE_SQL = f"""FROM {Record._meta.db_table} r JOIN {Import._meta.db_table} i ON i.id = r.batch_id
    WHERE r.review_id = %(review)s AND i.status = %(succeeded)s AND r.duplicate_of_id IS NULL {{passed}}"""  # noqa: S608
_PROGRESS_SQL = f"""
SELECT
  (SELECT COUNT(*) {_SCREENABLE_SQL}),
  (SELECT COUNT(*) {_SCREENABLE_SQL}
     AND NOT EXISTS (SELECT 1 FROM {Decision._meta.db_table} d WHERE d.record_id = r.id AND d.stage = %(stage)s
                     AND d.reviewer_id = %(user)s)
     AND NOT EXISTS (SELECT 1 FROM {Outcome._meta.db_table} o WHERE o.record_id = r.id AND o.stage = %(stage)s
                     AND o.status <> %(conflict)s)),
  (SELECT COUNT(*) FROM {Decision._meta.db_table} d WHERE d.review_id = %(review)s AND d.stage = %(stage)s),
  (SELECT COUNT(*) FROM {Decision._meta.db_table} d WHERE d.review_id = %(review)s AND d.stage = %(stage)s
     AND d.reviewer_id = %(user)s)
"""  # noqa: S608 - table names from the models, values as parameters


def agreement_report(*, review: Review, stage: str) -> dict[str, Any]:
    """Agreement at a stage, from one read of its decisions: overall (the first two decisions of each record
    decided by two reviewers) and per pair of reviewers (the records both decided), as JSON-ready dicts."""
    first_two: dict[int, list[str]] = {}
    by_reviewer: dict[str, dict[int, str]] = {}
    rows = Decision.objects.filter(review=review, stage=stage).order_by("created_at", "id")
    for username, record_id, decision in rows.values_list("reviewer__username", "record_id", "decision"):
        first_two.setdefault(record_id, []).append(decision)
        by_reviewer.setdefault(username, {})[record_id] = decision
    categories = list(Choice.values)
    overall = agreement([(d[0], d[1]) for d in first_two.values() if len(d) >= 2], categories=categories)
    pairs = []
    for a, b in combinations(sorted(by_reviewer), 2):
        common = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
        if common:
            result = agreement([(by_reviewer[a][r], by_reviewer[b][r]) for r in common], categories=categories)
            pairs.append({"reviewers": [a, b], **result.as_dict()})
    return {**overall.as_dict(), "pairs": pairs}


def prisma_counts(*, review: Review) -> PrismaCounts:
    """The PRISMA 2020 numbers, live from the data."""
    visible = Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED)
    per_source = visible.values_list("batch__source", "batch__source_kind").annotate(n=Count("id")).order_by()
    databases: dict[str, int] = {}
    registers: dict[str, int] = {}
    for source, kind, n in per_source:
        target = registers if kind == Import.SourceKind.REGISTER else databases
        target[source] = target.get(source, 0) + n
    duplicates = visible.exclude(duplicate_of=None).count()
    screened = visible.filter(duplicate_of=None).count()
    ta = Outcome.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT).exclude(status=Outcome.Status.CONFLICT)
    excluded_ta = ta.filter(decision=Choice.EXCLUDE).count()
    sought_ids = ta.exclude(decision=Choice.EXCLUDE).values("record_id")
    sought = sought_ids.count()
    not_retrieved = FullText.objects.filter(review=review, not_retrieved=True, record_id__in=sought_ids).count()
    ft = Outcome.objects.filter(review=review, stage=Stage.FULL_TEXT).exclude(status=Outcome.Status.CONFLICT)
    reasons = dict(ft.filter(decision=Choice.EXCLUDE).values_list("reason").annotate(n=Count("id")).order_by("reason"))
    included = ft.filter(decision=Choice.INCLUDE).values("record_id")
    reports = Record.objects.filter(pk__in=included)
    # Reports the editor has linked to one study (a trial's article and its registry record) count as one study;
    # a report not linked to a study yet counts as its own.
    studies = (
        reports.filter(study_report__isnull=False).values("study_report__study").distinct().count()
        + reports.filter(study_report__isnull=True).count()
    )
    return PrismaCounts(
        databases=databases,
        registers=registers,
        duplicates_removed=duplicates,
        screened=screened,
        excluded_screening=excluded_ta,
        sought=sought,
        not_retrieved=not_retrieved,
        assessed=sought - not_retrieved,
        excluded_reasons={reason or "No reason given": n for reason, n in reasons.items()},
        studies_included=studies,
        reports_included=included.count(),
    )


def dashboard(*, review: Review) -> dict | None:
    """What the review's overview shows of screening to editors and owners (None for reviewers: blinded or
    not, conflicts and agreement are theirs to resolve and report)."""
    if not role_at_least(review.my_role, Role.EDITOR):
        return None
    from screening.models import AgreementSummary

    summary = AgreementSummary.objects.filter(review=review).first()
    outcomes = dict(
        Outcome.objects.filter(review=review).values_list("stage").annotate(n=Count("id")).order_by("stage")
    )
    conflicts = dict(
        Outcome.objects.filter(review=review, status=Outcome.Status.CONFLICT)
        .values_list("stage")
        .annotate(n=Count("id"))
        .order_by("stage")
    )
    stages = [
        {
            "stage": stage,
            "label": Stage(stage).label,
            "decided": outcomes.get(stage, 0),
            "conflicts": conflicts.get(stage, 0),
            "agreement": (summary.data.get(stage) if summary else None),
        }
        for stage in Stage.values
    ]
    return {"stages": stages, "computed_at": summary.computed_at if summary else None,
            "stale": summary.stale if summary else False}  # fmt: skip
