"""Deduplication writes: run the engine over a review, merge, split. Merging never deletes a record: a duplicate
points to its group's primary record and can be split off again."""

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from reviews import record_writer
from reviews.dedupe import Candidate, DedupeRecord, find_duplicates
from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from reviews.selectors import review_get_for_user

Status = DuplicateGroup.Status
MERGED = (Status.AUTO, Status.CONFIRMED)
_FIELDS = ("id", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "registry_id")


def _completeness(row: Any) -> tuple:
    """Which record of a group to keep as primary: the most complete, then the first imported."""
    return (
        -bool(row.get("abstract")),
        -bool(row.get("doi")),
        -bool(row.get("authors")),
        -bool(row.get("year")),
        -bool(row.get("journal")),
        row["id"],
    )


def dedupe_review(
    *,
    review_id: int,
    extra_batch_id: int | None = None,
    new_records: Sequence[tuple[DedupeRecord, bool]] = (),
    new_ids: Callable[[], Mapping[int, int]] | None = None,
) -> set[int]:
    """Find duplicates across the whole review; merge the certain ones, queue the others for a person.

    `extra_batch_id` includes the records of an import still running (the caller's), so that its records
    become visible already deduplicated. An import can instead pass its records as `new_records` (each with
    whether it has an abstract), still being
    written, under provisional ids: the engine runs on them at once, and `new_ids()` (called after the engine)
    waits for the writing to end and maps provisional ids to the stored records' ids.
    Returns the ids of records newly merged or queued.
    Runs under a lock on the review so that two imports do not deduplicate at once. Writes in bulk: a
    100,000-record review costs a handful of queries per thousand groups, not several per pair."""
    with transaction.atomic():
        # FOR NO KEY UPDATE: deduplications of a review wait for each other, while an import's writer thread
        # (whose foreign keys take FOR KEY SHARE on this row) goes on writing the rows the engine is reading.
        Review.objects.select_for_update(no_key=True).get(pk=review_id)
        visible = Q(batch__status=Import.Status.SUCCEEDED)
        if extra_batch_id is not None:
            visible |= Q(batch_id=extra_batch_id)
        query = (
            Record.objects.filter(visible, review_id=review_id)
            .annotate(has_abstract=ExpressionWrapper(~Q(abstract=""), output_field=BooleanField()))
            .values_list(*_FIELDS, "has_abstract")
        )
        completeness: dict[int, tuple] = {}

        def rows() -> Iterable[tuple]:
            # The ORM's per-value converters took a quarter of a 100,000-record deduplication; a plain cursor
            # returns the authors' JSON as text, decoded here by the C json module.
            sql, params = query.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                while chunk := cursor.fetchmany(5000):
                    yield from chunk

        def engine_input() -> Iterable[DedupeRecord]:
            for rid, title, authors, year, journal, volume, issue, pages, doi, pmid, registry, has_abstract in rows():
                names = json.loads(authors) if isinstance(authors, str) else authors
                completeness[rid] = (not has_abstract, not doi, not names, year is None, not journal, rid)
                yield DedupeRecord(
                    id=rid,
                    title=title,
                    authors=tuple(names or ()),
                    year=year,
                    journal=journal,
                    volume=volume,
                    issue=issue,
                    pages=pages,
                    doi=doi,
                    pmid=pmid,
                    registry_id=registry,
                )
            for new, has_abstract in new_records:
                completeness[new.id] = (
                    not has_abstract, not new.doi, not new.authors, new.year is None, not new.journal, new.id
                )  # fmt: skip
                yield new

        groups = _GroupIndex(review_id)
        candidates = find_duplicates(engine_input(), known_distinct=groups.known_distinct)
        if new_ids is not None:
            candidates, completeness = _with_stored_ids(candidates, completeness, new_ids())
        auto = [c for c in candidates if c.decision == "auto"]
        touched, together, held_back = _apply_auto(review_id, auto, groups, completeness)
        pending = [c for c in candidates if c.decision == "pending" and not together(c.a, c.b)]
        pending += [c for c in held_back if not together(c.a, c.b)]
        touched |= _apply_pending(review_id, pending, groups)
        _drop_resolved_pending(review_id)
        return touched


def _with_stored_ids(
    candidates: list[Candidate], completeness: dict[int, tuple], ids: Mapping[int, int]
) -> tuple[list[Candidate], dict[int, tuple]]:
    """The engine's answer for provisional ids, in the stored records' ids (the completeness key ends with it)."""
    moved = [
        Candidate(min(a, b), max(a, b), c.score, c.decision, c.reason)
        for c in candidates
        for a, b in [(ids.get(c.a, c.a), ids.get(c.b, c.b))]
    ]
    return moved, {ids.get(k, k): (*v[:-1], ids.get(k, k)) for k, v in completeness.items()}


def _apply_auto(
    review_id: int, auto: list, groups: "_GroupIndex", completeness: dict[int, tuple]
) -> tuple[set[int], Callable[[int, int], bool], list]:
    """Union the certain pairs with the existing merged groups; write only the components that changed.
    Returns the records touched, a test of whether two records are now in one merged group, and the certain
    pairs held back because they would join records a person kept apart (for the queue)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    for record_id, group_id in groups.group_of.items():
        union(record_id, -group_id)  # a group is a node too (negative id), so its members stay together

    def together(a: int, b: int) -> bool:
        return find(a) == find(b)

    # A person's "these are different" must hold through transitivity too: the engine knows the pairs a
    # person kept apart but not the groups already merged, so a certain pair that would put two such records
    # into one group (through an existing group) is left to the queue instead.
    apart: dict[int, set[int]] = {}
    for pair in groups.known_distinct:
        a, b = tuple(pair)
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)
    component_members: dict[int, set[int]] = {}  # component root -> records, kept only while someone was kept apart
    if apart:
        for record_id in groups.group_of:
            component_members.setdefault(find(record_id), set()).add(record_id)

    def would_join_apart(a: int, b: int) -> bool:
        if not apart:
            return False
        side_a, side_b = component_members.get(find(a), {a}), component_members.get(find(b), {b})
        return any(apart.get(x, set()) & side_b for x in side_a)

    best: dict[frozenset[int], object] = {}
    held_back: list = []
    for c in auto:
        if together(c.a, c.b):
            continue
        if would_join_apart(c.a, c.b):
            held_back.append(c)
            continue
        if apart:
            joined = component_members.pop(find(c.a), {c.a}) | component_members.pop(find(c.b), {c.b})
        union(c.a, c.b)
        if apart:
            component_members[find(c.a)] = joined
        best[frozenset((c.a, c.b))] = c

    if not best:
        return set(), together, held_back
    # Every record of a changed component is in a new certain pair or in an existing merged group.
    components: dict[int, set[int]] = {}
    pairs_of: dict[int, list] = {}
    for pair, candidate in best.items():
        root = find(next(iter(pair)))
        components.setdefault(root, set()).update(pair)
        pairs_of.setdefault(root, []).append(candidate)
    for record_id in groups.group_of:
        root = find(record_id)
        if root in components:
            components[root].add(record_id)
    touched: set[int] = set()
    new_groups: list[tuple[DuplicateGroup, set[int]]] = []
    extend: list[tuple[int, set[int], int]] = []
    absorbed: set[int] = set()
    for root, members in components.items():
        existing = sorted({groups.group_of[m] for m in members if m in groups.group_of})
        pairs = pairs_of[root]
        score = max((p.score for p in pairs), default=1.0)  # type: ignore[attr-defined]
        reason = max(pairs, key=lambda p: p.score).reason if pairs else ""  # type: ignore[attr-defined]
        primary = min(members, key=lambda m: completeness.get(m, (True, True, True, True, True, m)))
        new_members = {m for m in members if m not in groups.group_of}
        touched |= new_members
        if existing:
            target = existing[0]
            absorbed.update(existing[1:])
            extend.append((target, members, primary))
        else:
            group = DuplicateGroup(
                review_id=review_id, status=Status.AUTO, score=score, reason=reason[:300], primary_id=primary
            )
            new_groups.append((group, members))
    created = DuplicateGroup.objects.bulk_create([g for g, _ in new_groups], batch_size=1000)
    through = DuplicateGroup.records.through
    links = [
        through(duplicategroup_id=g.pk, record_id=m)
        for g, (_, members) in zip(created, new_groups, strict=True)
        for m in members
    ]
    if absorbed:
        through.objects.filter(duplicategroup_id__in=absorbed).delete()
        DuplicateGroup.objects.filter(pk__in=absorbed).delete()
    for target, members, primary in extend:
        present = set(through.objects.filter(duplicategroup_id=target).values_list("record_id", flat=True))
        links += [through(duplicategroup_id=target, record_id=m) for m in members - present]
        DuplicateGroup.objects.filter(pk=target).update(primary_id=primary)
    through.objects.bulk_create(links, batch_size=5000)
    record_writer.set_duplicate_of(
        [
            (m, None if m == primary else primary)
            for primary, members in [(g.primary_id, mem) for g, mem in new_groups] + [(p, mem) for _, mem, p in extend]
            for m in members
        ]
    )
    return touched, together, held_back


def _apply_pending(review_id: int, pending: list, groups: "_GroupIndex") -> set[int]:
    fresh = []
    for c in pending:
        if groups.has_pending(c.a, c.b):
            continue
        groups.add_pending(c.a, c.b)
        fresh.append(c)
    created = DuplicateGroup.objects.bulk_create(
        [
            DuplicateGroup(
                review_id=review_id,
                status=Status.PENDING,
                score=c.score,
                reason=c.reason[:300],
                primary_id=min(c.a, c.b),
            )
            for c in fresh
        ],
        batch_size=1000,
    )
    through = DuplicateGroup.records.through
    through.objects.bulk_create(
        [through(duplicategroup_id=g.pk, record_id=r) for g, c in zip(created, fresh, strict=True) for r in (c.a, c.b)],
        batch_size=5000,
    )
    return {r for c in fresh for r in (c.a, c.b)}


class _GroupIndex:
    """The review's existing groups, for quick questions while the engine's candidates are applied."""

    def __init__(self, review_id: int) -> None:
        self.group_of: dict[int, int] = {}
        self.pending: set[frozenset[int]] = set()
        self.known_distinct: set[frozenset[int]] = set()
        members = DuplicateGroup.records.through.objects.filter(duplicategroup__review_id=review_id).values_list(
            "duplicategroup_id", "duplicategroup__status", "record_id"
        )
        by_group: dict[int, tuple[str, list[int]]] = {}
        for group_id, status, record_id in members:
            by_group.setdefault(group_id, (status, []))[1].append(record_id)
        for group_id, (status, ids) in by_group.items():
            if status in MERGED:
                for record_id in ids:
                    self.group_of[record_id] = group_id
            elif status == Status.PENDING:
                self.pending.update(_pairs(ids))
            else:
                self.known_distinct.update(_pairs(ids))

    def same_merged_group(self, a: int, b: int) -> bool:
        return a in self.group_of and self.group_of.get(a) == self.group_of.get(b)

    def has_pending(self, a: int, b: int) -> bool:
        return frozenset((a, b)) in self.pending

    def add_pending(self, a: int, b: int) -> None:
        self.pending.add(frozenset((a, b)))


def _pairs(ids: list[int]) -> Iterable[frozenset[int]]:
    return (frozenset((a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :])


def _merge(
    record_ids: list[int],
    *,
    review_id: int,
    status: str,
    score: float = 1.0,
    reason: str = "",
    user: User | None = None,
    groups: _GroupIndex | None = None,
) -> DuplicateGroup:
    """Put the records in one merged group, absorbing the merged groups they already belong to (duplicates are
    transitive) and pending groups that the merge settles. Sets every member's `duplicate_of` to the primary."""
    ids = set(record_ids)
    existing = list(
        DuplicateGroup.objects.filter(review_id=review_id, records__id__in=ids)
        .exclude(status=Status.SPLIT)
        .distinct()
        .prefetch_related("records")
        .order_by("id")
    )
    merged = [g for g in existing if g.status in MERGED]
    for group in merged:
        ids.update(r.pk for r in group.records.all())
    settled_pending = [g for g in existing if g.status == Status.PENDING and {r.pk for r in g.records.all()} <= ids]
    candidates = merged or settled_pending
    target = (
        candidates[0]
        if candidates
        else DuplicateGroup(review_id=review_id, status=status, score=score, reason=reason[:300])
    )
    rows = list(Record.objects.filter(pk__in=ids).values("id", "abstract", "doi", "authors", "year", "journal"))
    primary_id = min(rows, key=_completeness)["id"]
    target.primary_id = primary_id
    if user is not None:
        target.status, target.decided_by, target.decided_at = Status.CONFIRMED, user, timezone.now()
    elif target.status == Status.PENDING:
        target.status = status
    target.score = max(target.score, score) if target.pk else score
    if reason and not target.reason:
        target.reason = reason[:300]
    target.save()
    target.records.add(*ids)
    for group in merged + settled_pending:
        if group.pk != target.pk:
            group.delete()
    Record.objects.filter(pk__in=ids).exclude(pk=primary_id).update(duplicate_of=primary_id)
    Record.objects.filter(pk=primary_id).update(duplicate_of=None)
    if groups is not None:
        for record_id in ids:
            groups.group_of[record_id] = target.pk
    return target


def _drop_resolved_pending(review_id: int) -> None:
    """A pending pair whose records have since been merged (by a person or transitively) needs no decision."""
    for group in DuplicateGroup.objects.filter(review_id=review_id, status=Status.PENDING).prefetch_related("records"):
        primaries = {r.duplicate_of_id or r.pk for r in group.records.all()}
        if len(primaries) == 1:
            group.delete()


def _check_editor(user: User | AnonymousUser, review_id: int) -> Review:
    return review_get_for_user(user=user, review_id=review_id, role=Membership.Role.EDITOR)


@transaction.atomic
def duplicates_merge(*, user: User | AnonymousUser, review_id: int, record_ids: list[int]) -> DuplicateGroup:
    """A person merges records (at least two) of the review into one publication (owner or editor)."""
    review = _check_editor(user, review_id)
    Review.objects.select_for_update(no_key=True).get(pk=review.pk)
    ids = sorted(set(record_ids))
    if len(ids) < 2:
        raise ValidationError({"records": "Give at least two records to merge."})
    found = set(
        Record.objects.filter(pk__in=ids, review=review, batch__status=Import.Status.SUCCEEDED).values_list(
            "pk", flat=True
        )
    )
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({"records": f"Not records of this review: {', '.join(map(str, missing))}."})
    return _merge(ids, review_id=review.pk, status=Status.CONFIRMED, user=cast(User, user), reason="merged by a person")


@transaction.atomic
def duplicate_group_split(*, user: User | AnonymousUser, review_id: int, group_id: int) -> DuplicateGroup:
    """Keep a group's records apart: each becomes its own publication again, and the engine will not propose
    them together again (owner or editor)."""
    review = _check_editor(user, review_id)
    Review.objects.select_for_update(no_key=True).get(pk=review.pk)
    try:
        group = DuplicateGroup.objects.select_for_update().get(pk=group_id, review=review)
    except DuplicateGroup.DoesNotExist as exc:
        from django.http import Http404

        raise Http404("No such duplicate group in this review.") from exc
    if group.status == Status.SPLIT:
        return group
    if group.status in MERGED:
        # Only a merged group's members point to its primary. A pending pair's members may each be merged with a
        # third record through another group; keeping the pair apart must not undo that merge.
        member_ids = list(group.records.values_list("pk", flat=True))
        Record.objects.filter(pk__in=member_ids).update(duplicate_of=None)
    group.status, group.decided_by, group.decided_at = Status.SPLIT, cast(User, user), timezone.now()
    group.save()
    return group
