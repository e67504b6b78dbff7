"""Fixtures of the screening tests, beside the root conftest's cast."""

import pytest

from reviews.models import Membership
from reviews.tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def erin(cast):
    """A second reviewer of the cast's review, reachable as api("erin") and web("erin")."""
    user = UserFactory(username="erin")
    MembershipFactory(review=cast.review, user=user, role=Membership.Role.REVIEWER)
    cast.erin = user
    return user
