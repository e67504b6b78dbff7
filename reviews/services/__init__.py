"""Writes of the reviews app, split by concern: reviews and members, imports, duplicates."""

from reviews.services.reviews import (
    REVIEW_EDITABLE_FIELDS,
    membership_add,
    membership_change_role,
    membership_remove,
    review_create,
    review_delete,
    review_update,
)

__all__ = [
    "REVIEW_EDITABLE_FIELDS",
    "membership_add",
    "membership_change_role",
    "membership_remove",
    "review_create",
    "review_delete",
    "review_update",
]
