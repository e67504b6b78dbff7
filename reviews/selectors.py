"""Reads, scoped to what the user may see. A review the user is not a member of does not exist (404)."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from reviews.models import DuplicateGroup, Import, Membership, Record, Review, role_at_least

Role = Membership.Role


def review_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Review]:
    """The reviews the user is a member of, each annotated with `my_role` and `member_count`."""
    if not user.is_authenticated:
        return Review.objects.none()
    my_role = Membership.objects.filter(review=OuterRef("pk"), user=user).values("role")[:1]
    return (
        # Exists, not a join on memberships: Count would count the joined row (the user's own) and say 1 member.
        Review.objects.filter(Exists(Membership.objects.filter(review=OuterRef("pk"), user=user)))
        .annotate(my_role=Subquery(my_role), member_count=Count("memberships", distinct=True))  # type: ignore[no-redef]
        .select_related("created_by")
        .order_by("-updated_at", "-id")
    )


def review_get_for_user(*, user: User | AnonymousUser, review_id: int | str, role: str = Role.REVIEWER) -> Review:
    """The review if the user is a member; 404 otherwise (outsiders learn nothing), 403 if the role is too small.

    The returned review carries `my_role`. One indexed query through the membership: every review-scoped page
    and endpoint starts here, several times a second while screening."""
    if not user.is_authenticated:
        raise Http404("No such review.")
    try:
        membership = Membership.objects.select_related("review__created_by").get(review_id=int(review_id), user=user)
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such review.") from exc
    review = membership.review
    review.my_role = membership.role
    if not role_at_least(review.my_role, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this review.")
    return review


def membership_list(*, review: Review) -> QuerySet[Membership]:
    """Members of a review the caller has already been checked against."""
    return review.memberships.select_related("user").order_by("user__username")


def membership_get(*, review: Review, membership_id: int | str) -> Membership:
    try:
        return membership_list(review=review).get(pk=int(membership_id))
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such member in this review.") from exc


# --- imports, records, duplicates ------------------------------------------------------------------------


def import_list(*, review: Review) -> QuerySet[Import]:
    return review.imports.select_related("created_by").order_by("-created_at", "-id")


def import_get(*, review: Review, import_id: int | str) -> Import:
    try:
        return import_list(review=review).get(pk=int(import_id))
    except (Import.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such import in this review.") from exc


def record_list(
    *,
    review: Review,
    source: str = "",
    duplicates: str = "",
    q: str = "",
    year: int | None = None,
    batch_id: int | None = None,
) -> QuerySet[Record]:
    """Records of succeeded imports only: a running or failed import's rows do not exist for anyone.

    duplicates: "" (all), "exclude" (one record per publication), "only" (the duplicates)."""
    records = Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED).select_related("batch")
    if source:
        records = records.filter(batch__source=source)
    if batch_id:
        records = records.filter(batch_id=batch_id)
    if duplicates == "exclude":
        records = records.filter(duplicate_of__isnull=True)
    elif duplicates == "only":
        records = records.filter(duplicate_of__isnull=False)
    if year:
        records = records.filter(year=year)
    for term in q.split()[:10]:
        records = records.filter(
            Q(title__icontains=term)
            | Q(abstract__icontains=term)
            | Q(doi__iexact=term)
            | Q(pmid=term)
            | Q(registry_id__iexact=term)
        )
    return records.order_by("id")


def record_get(*, review: Review, record_id: int | str) -> Record:
    try:
        return record_list(review=review).get(pk=int(record_id))
    except (Record.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such record in this review.") from exc


def record_counts_by_source(*, review: Review) -> list[dict[str, Any]]:
    """Per source: records imported, duplicates among them, and what remains; for the records page and PRISMA."""
    rows = (
        Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED)
        .values("batch__source", "batch__source_kind")
        .annotate(
            records=Count("id"),
            duplicate_count=Count("id", filter=Q(duplicate_of__isnull=False)),
        )
        .order_by("batch__source")
    )
    return [dict(row) for row in rows]


def duplicate_group_list(*, review: Review, status: str = "") -> QuerySet[DuplicateGroup]:
    groups = review.duplicate_groups.select_related("primary", "decided_by").prefetch_related(
        Prefetch("records", queryset=Record.objects.select_related("batch").order_by("id"))
    )
    if status:
        groups = groups.filter(status=status)
    return groups.order_by("-score", "id")


def duplicate_group_get(*, review: Review, group_id: int | str) -> DuplicateGroup:
    try:
        return duplicate_group_list(review=review).get(pk=int(group_id))
    except (DuplicateGroup.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such duplicate group in this review.") from exc
