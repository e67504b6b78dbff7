"""The load test's data, and its reading of what the database holds afterwards (run by tests/load/run.py in a
process of its own, with the load test's settings and database):

    python -m tests.load.seed seed PLAN.json --users 50 --team 2 --records 5000 --studies 40
    python -m tests.load.seed decisions OUT.json --after SEEDED_UP_TO

`seed` makes the accounts load01..loadNN (one password, written to the plan), the screening reviews (teams of
`--team` reviewers, blinded, two decisions needed per record, `--records` records each, the first quarter
already decided by the team), and
one extraction review holding every account as a reviewer with `--studies` studies on the default form. The
records are written in bulk, as the screening benchmark does (tests/bench/bench_screening.py): importing them
through the RIS parser is measured elsewhere and would only slow the start. `decisions` writes every screening
decision made after the seeding in the load test's reviews as [username, record id, stage, decision]."""

import argparse
import json
import os
import random
import secrets
import sys
from pathlib import Path
from typing import Any

import django

PREFIX = "load"
SCREENING_TITLE = "Load test: screening"
EXTRACTION_TITLE = "Load test: extraction"


def _words(rng: random.Random, low: int, high: int) -> str:
    from tests.bench.ris_corpus import WORDS

    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def seed(*, users: int, team: int, records: int, studies: int, seed_value: int = 20261202) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.db import transaction

    from extraction.services import studies as study_services
    from extraction.services.forms import current_form
    from reviews.models import Import, Membership, Record, Review
    from screening.models import Decision, Outcome, ScreeningSettings, Stage
    from tests.bench.ris_corpus import JOURNALS, SURNAMES

    rng = random.Random(seed_value)  # noqa: S311 - reproducible test data, not security
    password = secrets.token_urlsafe(12)
    hashed = make_password(password)  # one hash for every account: hashing 50 times would only slow the start
    with transaction.atomic():
        owner = User.objects.create(username=f"{PREFIX}owner", email=f"{PREFIX}owner@example.org", password=hashed)
        accounts = User.objects.bulk_create(
            User(username=f"{PREFIX}{n:02d}", email=f"{PREFIX}{n:02d}@example.org", password=hashed)
            for n in range(1, users + 1)
        )
        teams = [accounts[i : i + team] for i in range(0, len(accounts), team)]
        per_review = records
        screening: dict[str, int] = {}
        for number, members in enumerate(teams, start=1):
            review = Review.objects.create(title=f"{SCREENING_TITLE} {number}", created_by=owner)
            Membership.objects.create(review=review, user=owner, role=Membership.Role.OWNER)
            Membership.objects.bulk_create(
                Membership(review=review, user=user, role=Membership.Role.REVIEWER) for user in members
            )
            ScreeningSettings.objects.create(review=review, reviewers_needed=2, blinded=True)
            batch = Import.objects.create(
                review=review, source="MEDLINE (Ovid)", filename=f"load-{number}.ris", content_hash=f"load{number}",
                status=Import.Status.SUCCEEDED, records_added=per_review,
            )  # fmt: skip
            Record.objects.bulk_create(
                (
                    Record(
                        review=review,
                        batch=batch,
                        position=i,
                        title=_words(rng, 8, 16).capitalize() + f" {i}",
                        abstract=_words(rng, 120, 220).capitalize() + ".",
                        authors=[f"{rng.choice(SURNAMES)}, {rng.choice('ABCDEFGHJK')}." for _ in range(3)],
                        year=rng.randint(1980, 2024),
                        journal=rng.choice(JOURNALS),
                        keywords=[rng.choice(("ketamine", "opioid", "pain")) for _ in range(3)],
                    )  # fmt: skip
                    for i in range(1, per_review + 1)
                ),
                batch_size=2000,
            )
            screening.update({user.username: review.pk for user in members})
            # The team is a quarter of the way through: the first records decided by every member and settled,
            # so that the queue is met in the middle of the work and the planner's statistics see decisions.
            done = list(
                Record.objects.filter(batch=batch).order_by("id").values_list("id", flat=True)[: per_review // 4]
            )
            Decision.objects.bulk_create(
                (
                    Decision(review=review, record_id=r, stage=Stage.TITLE_ABSTRACT, reviewer=user, decision="exclude")
                    for r in done
                    for user in members
                ),
                batch_size=5000,
            )
            Outcome.objects.bulk_create(
                (
                    Outcome(
                        review=review,
                        record_id=r,
                        stage=Stage.TITLE_ABSTRACT,
                        status=Outcome.Status.SETTLED,
                        decision="exclude",
                    )  # fmt: skip
                    for r in done
                ),
                batch_size=5000,
            )

        extraction = Review.objects.create(title=EXTRACTION_TITLE, created_by=owner)
        Membership.objects.create(review=extraction, user=owner, role=Membership.Role.OWNER)
        Membership.objects.bulk_create(
            Membership(review=extraction, user=user, role=Membership.Role.REVIEWER) for user in accounts
        )
        batch = Import.objects.create(
            review=extraction, source="MEDLINE (Ovid)", filename="load-x.ris", content_hash="loadx",
            status=Import.Status.SUCCEEDED, records_added=studies,
        )  # fmt: skip
        reports = Record.objects.bulk_create(
            Record(
                review=extraction,
                batch=batch,
                position=i,
                title=f"Trial {i} of ketamine for cancer pain",
                authors=[f"{SURNAMES[i % len(SURNAMES)]}, A."],
                year=2000 + i % 25,
            )  # fmt: skip
            for i in range(1, studies + 1)
        )
        current_form(extraction)  # the default form, published
        study_ids = [
            study_services.study_create(
                user=owner, review_id=extraction.pk, label=f"Load {i:03d}", record_ids=[record.pk]
            ).pk
            for i, record in enumerate(reports, start=1)
        ]
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    # A study takes two extractors (the default `extractors_per_study`): account n and account n + half extract
    # the same studies, so that no third extractor is turned away.
    half = (len(accounts) + 1) // 2
    assigned = {
        user.username: [sid for j, sid in enumerate(study_ids) if j % half == n % half]
        for n, user in enumerate(accounts)
    }
    return {
        "password": password,
        "users": [user.username for user in accounts],
        "screening": screening,
        "extraction": {"review": extraction.pk, "studies": assigned},
        # Decisions up to this id were seeded; the load test's own come after it.
        "seeded_up_to": Decision.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    }


def decisions(after: int) -> list[list[Any]]:
    from screening.models import Decision

    rows = Decision.objects.filter(review__title__startswith="Load test: ", id__gt=after).values_list(
        "reviewer__username", "record_id", "stage", "decision"
    )
    return [list(row) for row in rows.order_by("id")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("seed")
    make.add_argument("out", type=Path)
    make.add_argument("--users", type=int, default=50)
    make.add_argument("--team", type=int, default=2)
    make.add_argument("--records", type=int, default=2000)
    make.add_argument("--studies", type=int, default=50)
    read = sub.add_parser("decisions")
    read.add_argument("out", type=Path)
    read.add_argument("--after", type=int, default=0, help="only decisions with a greater id (not the seeded)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    django.setup()
    if args.command == "seed":
        plan = seed(users=args.users, team=args.team, records=args.records, studies=args.studies)
        args.out.write_text(json.dumps(plan))
        print(
            f"Seeded {len(plan['users'])} reviewers in {len(set(plan['screening'].values()))} screening review(s), "
            f"{args.studies} studies to extract"
        )
    else:
        rows = decisions(args.after)
        args.out.write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
