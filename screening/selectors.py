"""Screening reads, scoped to the asking member's role. Blinding lives here: while a review is blinded, a
reviewer's reads hold only their own decisions, and nothing says whether a record is in conflict."""

from dataclasses import dataclass
from itertools import combinations
from typing import cast

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from reviews.models import Import, Membership, Record, Review, role_at_least
from screening.agreement import Agreement, agreement
from screening.models import Choice, Decision, FullText, Outcome, Stage
from screening.prisma import PrismaCounts
from screening.services import settings_for

AnyUser = User | AnonymousUser
Role = Membership.Role


def sees_all(review: Review) -> bool:
    """Whether the member (review.my_role, set by review_get_for_user) may see every reviewer's decisions."""
    return role_at_least(review.my_role, Role.EDITOR) or not settings_for(review).blinded


def screenable_records(*, review: Review, stage: str) -> QuerySet[Record]:
    """The records screened at a stage: one per publication (duplicates are screened through their primary);
    at full text, those whose title/abstract outcome is include or maybe."""
    records = Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED, duplicate_of__isnull=True)
    if stage == Stage.FULL_TEXT:
        passed = Outcome.objects.filter(
            record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, decision__in=[Choice.INCLUDE, Choice.MAYBE]
        )
        records = records.filter(Exists(passed))
    return records


def queue_for(*, review: Review, user: AnyUser, stage: str) -> QuerySet[Record]:
    """Records still waiting for this reviewer at this stage: not decided by them, outcome not settled. Each
    test is an indexed NOT EXISTS, so a step costs the same queries in a review of any size."""
    mine = Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=cast(User, user))
    settled = Outcome.objects.filter(record=OuterRef("pk"), stage=stage).exclude(status=Outcome.Status.CONFLICT)
    return screenable_records(review=review, stage=stage).filter(~Exists(mine), ~Exists(settled)).order_by("id")


def next_record(*, review: Review, user: AnyUser, stage: str, after: int | None = None) -> Record | None:
    """The next record for this reviewer (in import order; `after` skips to records after that id)."""
    queue = queue_for(review=review, user=user, stage=stage)
    if after is not None:
        queue = queue.filter(id__gt=after)
    return queue.select_related("batch").first()


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


def progress(*, review: Review, user: AnyUser, stage: str) -> Progress:
    total = screenable_records(review=review, stage=stage).count()
    made = Decision.objects.filter(review=review, stage=stage).aggregate(
        all=Count("id"), mine=Count("id", filter=Q(reviewer=user))
    )
    return Progress(
        mine=made["mine"],
        remaining_for_me=queue_for(review=review, user=user, stage=stage).count(),
        total=total,
        decisions_needed=total * settings_for(review).reviewers_needed,
        decisions_made=made["all"] if sees_all(review) else None,
    )


@dataclass(frozen=True)
class PairAgreement:
    reviewer_a: str
    reviewer_b: str
    result: Agreement


def agreement_by_pair(*, review: Review, stage: str) -> list[PairAgreement]:
    """Agreement of each pair of reviewers on the records both decided at this stage (editor, owner)."""
    by_reviewer: dict[str, dict[int, str]] = {}
    rows = Decision.objects.filter(review=review, stage=stage).values_list(
        "reviewer__username", "record_id", "decision"
    )
    for username, record_id, decision in rows:
        by_reviewer.setdefault(username, {})[record_id] = decision
    pairs = []
    for a, b in combinations(sorted(by_reviewer), 2):
        common = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
        if common:
            labels = [(by_reviewer[a][r], by_reviewer[b][r]) for r in common]
            pairs.append(PairAgreement(a, b, agreement(labels, categories=list(Choice.values))))
    return pairs


def agreement_overall(*, review: Review, stage: str) -> Agreement:
    """Agreement over every record decided by two reviewers at this stage (the first two decisions of each)."""
    first_two: dict[int, list[str]] = {}
    rows = Decision.objects.filter(review=review, stage=stage).order_by("created_at", "id")
    for record_id, decision in rows.values_list("record_id", "decision"):
        first_two.setdefault(record_id, []).append(decision)
    labels = [(d[0], d[1]) for d in first_two.values() if len(d) >= 2]
    return agreement(labels, categories=list(Choice.values))


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
    included = ft.filter(decision=Choice.INCLUDE).count()
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
        studies_included=included,
        reports_included=included,
    )
