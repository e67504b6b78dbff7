"""Writes on reviews and their members. Each takes the acting user and checks the role itself."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from core.exceptions import ServiceConflict
from reviews.models import Membership, Review
from reviews.selectors import review_get_for_user

Role = Membership.Role

REVIEW_EDITABLE_FIELDS = (
    "title",
    "objectives",
    "population",
    "intervention",
    "comparator",
    "outcomes",
    "eligibility_criteria",
)

AnyUser = User | AnonymousUser


@transaction.atomic
def review_create(*, user: AnyUser, title: str, **fields: Any) -> Review:
    """Create a review; its creator becomes its owner."""
    if not user.is_authenticated:
        raise PermissionDenied("Log in to create a review.")
    unknown = set(fields) - set(REVIEW_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a field of a review." for name in sorted(unknown)})
    review = Review(title=title, created_by=user, **fields)
    review.full_clean()
    review.save()
    Membership.objects.create(review=review, user=user, role=Role.OWNER)
    return review


@transaction.atomic
def review_update(*, user: AnyUser, review_id: int, version: int | None, **fields: Any) -> Review:
    """Change a review's description (owner). `version` is the one the caller read; if someone saved in
    between, the write is refused with ServiceConflict rather than overwriting their change. `None` skips
    the check (API clients that do not send it)."""
    review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    review = Review.objects.select_for_update().get(pk=review_id)
    if version is not None and version != review.version:
        raise ServiceConflict(
            f"Someone else saved this review since you opened it (version {version}, now {review.version}). "
            "Reload it and make your change again."
        )
    unknown = set(fields) - set(REVIEW_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: "Not a field you can change." for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(review, name, value)
    review.version += 1
    review.full_clean()
    review.save()
    return review


@transaction.atomic
def review_delete(*, user: AnyUser, review_id: int) -> None:
    review = review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    from extraction.models import Extraction  # reviews does not depend on extraction at import time

    # An extraction protects its form (a form in use is not deleted on its own); with the whole review going,
    # the extractions go first, or the cascade stops at the protection.
    Extraction.objects.filter(review=review).delete()
    Review.objects.filter(pk=review.pk).delete()


def _find_user(identifier: str) -> User:
    identifier = identifier.strip()
    if not identifier:
        raise ValidationError({"username": "Give a username or an e-mail address."})
    matches = list(
        User.objects.filter(username__iexact=identifier, is_active=True)[:2]
        if "@" not in identifier
        else User.objects.filter(email__iexact=identifier, is_active=True)[:2]
    )
    if len(matches) != 1:
        # Also reached when two accounts share an e-mail address: adding by username is unambiguous.
        raise ValidationError(
            {"username": f"No single Sieve account has the username or e-mail address “{identifier}”."}
        )
    return matches[0]


def _validate_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise ValidationError({"role": f"“{role}” is not a role; choose one of {', '.join(Role.values)}."}) from exc


@transaction.atomic
def membership_add(*, user: AnyUser, review_id: int, identifier: str, role: str) -> Membership:
    """Add an account to the review by username or e-mail address (owner)."""
    review = review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    new_role = _validate_role(role)
    member = _find_user(identifier)
    if Membership.objects.filter(review=review, user=member).exists():
        raise ServiceConflict(f"{member.get_username()} is already a member of this review.")
    return Membership.objects.create(review=review, user=member, role=new_role)


def _lock_owners(review_id: int) -> list[int]:
    """Lock the review's owner rows so that two concurrent demotions cannot remove the last owner."""
    return list(
        Membership.objects.select_for_update().filter(review_id=review_id, role=Role.OWNER).values_list("pk", flat=True)
    )


def _lock_membership(review_id: int, membership_id: int) -> Membership:
    try:
        return Membership.objects.select_for_update().get(pk=membership_id, review_id=review_id)
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such member in this review.") from exc


@transaction.atomic
def membership_change_role(*, user: AnyUser, review_id: int, membership_id: int, role: str) -> Membership:
    review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    new_role = _validate_role(role)
    owners = _lock_owners(review_id)
    membership = _lock_membership(review_id, membership_id)
    if membership.role == Role.OWNER and new_role != Role.OWNER and owners == [membership.pk]:
        raise ServiceConflict("A review needs at least one owner: make someone else owner first.")
    membership.role = new_role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, user: AnyUser, review_id: int, membership_id: int) -> None:
    review_get_for_user(user=user, review_id=review_id, role=Role.OWNER)
    owners = _lock_owners(review_id)
    membership = _lock_membership(review_id, membership_id)
    if membership.role == Role.OWNER and owners == [membership.pk]:
        raise ServiceConflict("The last owner cannot be removed: make someone else owner first.")
    membership.delete()
