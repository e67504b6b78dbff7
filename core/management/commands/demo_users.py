"""Create the demo users (two authors and an editor) and their review, and print how to log in.

The password is generated on first run, kept in var/demo_password (mode 0600, outside git) and printed each
time; it is never hard-coded.
"""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from reviews.models import Membership, Review

DEMO_USERS = [
    ("author1", "Ana", "Author", Membership.Role.OWNER),
    ("author2", "Ben", "Author", Membership.Role.REVIEWER),
    ("editor", "Eve", "Editor", Membership.Role.EDITOR),
]
DEMO_REVIEW = {
    "title": "Ketamine as an adjuvant to opioids for cancer pain",
    "objectives": "To assess the effectiveness and adverse effects of ketamine added to opioids for the "
    "relief of cancer pain in adults whose pain does not respond to opioids alone.",
    "population": "Adults with cancer pain that is not controlled by opioids (refractory cancer pain).",
    "intervention": "Ketamine, by any route and dose, added to opioid treatment.",
    "comparator": "Opioid treatment with placebo or with no added ketamine.",
    "outcomes": "Pain intensity; opioid consumption; rescue medication; adverse events; patient satisfaction; "
    "function; distress; withdrawals.",
    "eligibility_criteria": "Randomised controlled trials (parallel or crossover) of ketamine added to opioids "
    "in adults with cancer pain.\nAt least 10 participants completed the study.\nAny route of ketamine.\n"
    "Exclude: non-cancer pain, children, studies without an opioid background, non-randomised studies.",
}


class Command(BaseCommand):
    help = "Create the demo users and the demo review (idempotent) and print their login."

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password()
        User = get_user_model()
        with transaction.atomic():
            users = {}
            for username, first, last, _role in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username,
                    defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
                )
                if created or not user.check_password(password):
                    user.set_password(password)
                    user.save()
                users[username] = user
            review = Review.objects.filter(title=DEMO_REVIEW["title"], created_by=users["author1"]).first()
            if review is None:
                review = Review.objects.create(created_by=users["author1"], **DEMO_REVIEW)
            for username, _first, _last, role in DEMO_USERS:
                Membership.objects.get_or_create(review=review, user=users[username], defaults={"role": role})
        names = ", ".join(f"{u} ({r})" for u, _f, _l, r in DEMO_USERS)
        self.stdout.write(self.style.SUCCESS(f"Demo users: {names}"))
        self.stdout.write(self.style.SUCCESS(f"Password for each: {password}"))

    def _password(self) -> str:
        path = settings.VAR_DIR / "demo_password"
        if path.exists():
            return path.read_text().strip()
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        path.write_text(password)
        path.chmod(0o600)
        return password
