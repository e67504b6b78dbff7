"""Reads of the exports app, scoped to the user."""

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404

from exports.models import ReviewTransfer


def review_transfer_get_for_user(*, user: User | AnonymousUser, transfer_id: int | str) -> ReviewTransfer:
    """One of the user's own imports of a JSON export; anyone else's, like one that does not exist, is a 404
    (an import names a review that its importer alone owns until they add members)."""
    try:
        return ReviewTransfer.objects.select_related("review").get(pk=int(transfer_id), user_id=user.pk or 0)
    except (ReviewTransfer.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such import of yours.") from exc
