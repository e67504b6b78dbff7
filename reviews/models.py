from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class Review(models.Model):
    """A systematic review: its question (PICO), eligibility criteria and team."""

    title = models.CharField(max_length=500)
    objectives = models.TextField(blank=True)
    population = models.TextField(blank=True, help_text="Who: participants and condition.")
    intervention = models.TextField(blank=True, help_text="What is given or done.")
    comparator = models.TextField(blank=True, help_text="Against what: placebo, usual care, another drug.")
    outcomes = models.TextField(blank=True, help_text="What is measured.")
    eligibility_criteria = models.TextField(blank=True, help_text="Shown beside every record while screening.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: a write names the version it read; a stale one is refused (409).
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    # Set by reviews.selectors for the user who asked; not columns.
    my_role: str | None
    member_count: int

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        EDITOR = "editor", "Editor"
        REVIEWER = "reviewer", "Reviewer"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review_id", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="membership_one_per_user_and_review"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "editor", "reviewer"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.review_id}"


# Each role can do all that the roles below it can.
ROLE_RANK = {Membership.Role.REVIEWER: 1, Membership.Role.EDITOR: 2, Membership.Role.OWNER: 3}


def role_at_least(role: str | None, needed: str) -> bool:
    return role is not None and ROLE_RANK[Membership.Role(role)] >= ROLE_RANK[Membership.Role(needed)]
