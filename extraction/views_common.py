"""What the extraction pages share: the role tests they show by, htmx answers, and service errors as text."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from extraction import selectors
from extraction.models import Extraction
from reviews.models import Membership, Review, role_at_least

Role = Membership.Role

# htmx swaps these answers too (static/js/extraction.js): 409 a refused stale save, 422 a value that does not fit.
CONFLICT, INVALID = 409, 422


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def is_editor(review: Review) -> bool:
    return role_at_least(review.my_role, Role.EDITOR)


def is_owner(review: Review) -> bool:
    return role_at_least(review.my_role, Role.OWNER)


def can_write(review: Review, user: User | AnonymousUser, extraction: Extraction) -> bool:
    """Whether the services let this member save the extraction: their own, or the consensus for an editor."""
    if extraction.is_consensus:
        return is_editor(review)
    return extraction.reviewer_id == user.pk


def messages_of(exc: ValidationError) -> list[str]:
    """Every message of a service's ValidationError, field messages included, flat."""
    if hasattr(exc, "error_dict"):
        return [message for messages in exc.message_dict.values() for message in messages]
    return list(exc.messages)


def field_errors(exc: ValidationError) -> dict[str, str]:
    """A service's field messages by field name (a message without a field under "")."""
    if not hasattr(exc, "error_dict"):
        return {"": " ".join(exc.messages)}
    return {name: " ".join(messages) for name, messages in exc.message_dict.items()}


def sees_all(review: Review) -> bool:
    return selectors.sees_all(review)


def version_of(data: Any) -> int | None:
    """The `version` a page sent (None when missing or garbled: the service then does not check it)."""
    raw = str(data.get("version", "") or "").strip()
    return int(raw) if raw.isdigit() else None
