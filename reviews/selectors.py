"""Reads, scoped to what the user may see. A review the user is not a member of does not exist (404)."""

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import Http404

from reviews.models import Membership, Review, role_at_least

Role = Membership.Role


def review_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Review]:
    """The reviews the user is a member of, each annotated with `my_role` and `member_count`."""
    if not user.is_authenticated:
        return Review.objects.none()
    my_role = Membership.objects.filter(review=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Review.objects.filter(memberships__user=user)
        .annotate(my_role=Subquery(my_role), member_count=Count("memberships", distinct=True))  # type: ignore[no-redef]
        .select_related("created_by")
        .order_by("-updated_at", "-id")
    )


def review_get_for_user(*, user: User | AnonymousUser, review_id: int | str, role: str = Role.REVIEWER) -> Review:
    """The review if the user is a member; 404 otherwise (outsiders learn nothing), 403 if the role is too small.

    The returned review carries `my_role`.
    """
    try:
        review = review_list_for_user(user=user).get(pk=int(review_id))
    except (Review.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such review.") from exc
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
