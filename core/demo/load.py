"""Load the ketamine demo (issue 9) as its team would have started it: the demo users, their review with its
question and eligibility criteria, the team (author1 owner, author2 reviewer, editor), screening by two
blinded authors with the editor resolving, and the five search exports imported through the import service
(which deduplicates each one against the review). Nothing is screened; the duplicates the engine is unsure of
stay in the queue for a person.

Every write goes through the services, as the pages would call them, so the demo shows what Sieve does with
these files rather than what a fixture says it does."""

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from reviews.models import Import, Membership, Record, Review
from reviews.services import membership_add, review_create, review_delete
from reviews.services.imports import import_process, import_start
from screening import services as screening

Log = Callable[[str], None]
SOURCES = Path(__file__).resolve().parent / "sources"
# Formats that come from trial registers (PRISMA counts them apart from databases).
REGISTER_FORMATS = {"ctgov_json", "ictrp_xml"}

DEMO_USERS = [
    ("author1", "Ana", "Author", Membership.Role.OWNER),
    ("author2", "Ben", "Author", Membership.Role.REVIEWER),
    ("editor", "Eve", "Editor", Membership.Role.EDITOR),
]
DEMO_TITLE = "Ketamine as an adjuvant to opioids for cancer pain"
DEMO_REVIEW = {
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
# Terms the screening page colours: what the eligibility criteria ask for, and what rules a record out.
INCLUDE_TERMS = "ketamine\ncancer\nopioid*\nmorphine\nrandom*\nplacebo\ncrossover"
EXCLUDE_TERMS = "child*\npaediatric\npediatric\npostoperative\ndepress*\nrats\nmice\nretrospective\nreview"
# The search strategies (written for the demo, in each interface's syntax), kept with each import as PRISMA-S asks.
STRATEGIES = {
    "MEDLINE (Ovid)": "1 exp Neoplasms/\n2 (cancer* or neoplas* or tumo?r* or malignan* or carcinom*).tw.\n"
    "3 1 or 2\n4 exp Pain/\n5 pain*.tw.\n6 4 or 5\n7 Ketamine/\n8 (ketamin* or ketalar or esketamin*).tw.\n"
    "9 7 or 8\n10 3 and 6 and 9\n11 randomized controlled trial.pt.\n12 (random* or placebo* or crossover).tw.\n"
    "13 11 or 12\n14 10 and 13\n15 exp animals/ not humans.sh.\n16 14 not 15",
    "CENTRAL (CRSO)": "#1 MESH DESCRIPTOR Neoplasms EXPLODE ALL\n"
    "#2 (cancer* OR neoplas* OR tumo?r* OR malignan*):TI,AB\n#3 #1 OR #2\n#4 MESH DESCRIPTOR Ketamine\n"
    "#5 (ketamin* OR ketalar OR esketamin*):TI,AB,KY\n#6 #4 OR #5\n"
    "#7 pain*:TI,AB,KY\n#8 #3 AND #6 AND #7",
    "Embase (Ovid)": "1 exp neoplasm/\n2 (cancer* or neoplas* or tumo?r* or malignan* or carcinom*).tw.\n3 1 or 2\n"
    "4 exp pain/\n5 pain*.tw.\n6 4 or 5\n7 ketamine/\n8 (ketamin* or ketalar or esketamin*).tw.\n9 7 or 8\n"
    "10 3 and 6 and 9\n11 randomized controlled trial/ or crossover procedure/ or double blind procedure/\n"
    "12 (random* or placebo* or crossover or cross-over).tw.\n13 11 or 12\n14 10 and 13",
    "ClinicalTrials.gov": "Condition: cancer pain | Intervention: ketamine | Study type: Interventional",
    "WHO ICTRP": "Advanced search: Condition = cancer AND pain; Intervention = ketamine; Recruitment status = ALL",
}
SEARCHED_ON = date(2026, 10, 1)  # the day the demo's searches are said to have been run


@cache
def answer_key() -> dict[str, Any]:
    """sources/key.json: the files and, for each distinct reference, where it is and how the team judged it."""
    return json.loads((SOURCES / "key.json").read_text(encoding="utf-8"))


def demo_password() -> str:
    """The demo users' password: generated on first use, kept in var/demo_password (0600, outside git)."""
    path = settings.VAR_DIR / "demo_password"
    if path.exists():
        return path.read_text().strip()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(12)
    path.write_text(password)
    path.chmod(0o600)
    return password


def demo_users_ensure(password: str) -> dict[str, User]:
    """The three demo accounts, made if missing, each with `password`."""
    users = {}
    with transaction.atomic():
        for username, first, last, _role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@example.org"},
            )
            if created or not user.check_password(password):
                user.set_password(password)
                user.save()
            users[username] = user
    return users


def demo_review_find(users: dict[str, User]) -> Review | None:
    return Review.objects.filter(title=DEMO_TITLE, created_by=users["author1"]).order_by("id").first()


def demo_review_loaded(review: Review) -> bool:
    """Whether every file of the key was imported (a load interrupted half-way is not a demo to show)."""
    return review.imports.filter(status=Import.Status.SUCCEEDED).count() == len(answer_key()["files"])


def login_lines(password: str) -> list[str]:
    names = ", ".join(f"{u} ({r})" for u, _f, _l, r in DEMO_USERS)
    return [f"Demo users: {names}", f"Password for each: {password}"]


@contextmanager
def tasks_inline() -> Iterator[None]:
    """Run the tasks the services enqueue in this process, as they are enqueued (after their commit).

    The demo is then complete when the command returns, with no worker running yet (`make run` loads it
    before it starts one) and nothing left queued for a worker to redo; on PostgreSQL with Redis as on the
    embedded default. The steps below also call the worker's idempotent functions themselves, so the result
    does not depend on this (the tests, which run no on-commit callbacks, rely on that)."""
    from config.celery import app

    was = app.conf.task_always_eager
    # A line per task run, and kombu's warning about the producer an eager task still acquires, say nothing here.
    quiet = {name: logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")}
    levels = {name: logger.level for name, logger in quiet.items()}
    app.conf.task_always_eager = True
    for logger in quiet.values():
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        app.conf.task_always_eager = was
        for name, logger in quiet.items():
            logger.setLevel(levels[name])


def demo_delete(users: dict[str, User]) -> bool:
    """Delete the demo review and the files it stored (deleting rows leaves their files behind)."""
    from screening.models import FullText

    review = demo_review_find(users)
    if review is None:
        return False
    files = [i.file for i in review.imports.all()] + [f.file for f in FullText.objects.filter(review=review)]
    review_delete(user=users["author1"], review_id=review.pk)
    for stored in files:
        if stored.name:
            stored.storage.delete(stored.name)
    return True


def load(*, users: dict[str, User], log: Log = print) -> Review:
    """Create the demo review, its team and its settings, and import the five search exports."""
    author1 = users["author1"]
    review = review_create(user=author1, title=DEMO_TITLE, **DEMO_REVIEW)
    for username, _first, _last, role in DEMO_USERS:
        if role != Membership.Role.OWNER:
            membership_add(user=author1, review_id=review.pk, identifier=username, role=role)
    log(f"Review “{review.title}” (id {review.pk}) with author1 (owner), author2 (reviewer) and editor (editor)")
    current = screening.settings_for(review)
    # Two authors screen every record blind to each other; the editor resolves their conflicts. Any member
    # may screen (screening.services), so the editor simply does not: the queue offers each record to two people.
    screening.settings_update(
        user=author1, review_id=review.pk, version=current.version, reviewers_needed=2, blinded=True,
        exclusion_reasons=exclusion_reasons(), include_terms=INCLUDE_TERMS, exclude_terms=EXCLUDE_TERMS,
    )  # fmt: skip
    for entry in answer_key()["files"]:
        batch = import_file(review, author1, entry)
        log(
            f"Imported {batch.filename} as “{batch.source}”: {batch.records_added} records, "
            f"{batch.duplicates_found} found to be duplicates"
        )
    unique = Record.objects.filter(review=review, duplicate_of__isnull=True).count()
    queued = review.duplicate_groups.filter(status="pending").count()
    log(f"{unique} records to screen; {queued} possible duplicate(s) wait for a person to confirm")
    return review


def exclusion_reasons() -> list[str]:
    """The full-text exclusion reasons the key uses first (those the eligibility criteria name), then Sieve's
    defaults: a full-text exclusion must give one of the review's reasons."""
    from screening.models import DEFAULT_EXCLUSION_REASONS

    used = [
        w["fulltext"]["reason"]
        for w in answer_key()["works"]
        if w.get("fulltext") and w["fulltext"].get("decision") == "exclude" and w["fulltext"].get("reason")
    ]
    return list(dict.fromkeys([*used, *DEFAULT_EXCLUSION_REASONS]))


def import_file(review: Review, user: User, entry: dict[str, Any]) -> Import:
    """Import one export through the import service, then process it here: idempotent, so the task the service
    enqueued finds it finished if it runs too."""
    content = (SOURCES / entry["file"]).read_bytes()
    kind = entry.get("source_kind") or (
        Import.SourceKind.REGISTER if entry.get("format") in REGISTER_FORMATS else Import.SourceKind.DATABASE
    )
    searched = entry.get("searched_on")
    batch = import_start(
        user=user,
        review_id=review.pk,
        file=SimpleUploadedFile(entry["file"], content),
        source=entry["source"],
        source_kind=kind,
        searched_on=date.fromisoformat(searched) if searched else SEARCHED_ON,
        strategy=entry.get("strategy") or STRATEGIES.get(entry["source"], ""),
        format=entry.get("format", ""),
    )
    batch = import_process(import_id=batch.pk)
    if batch.status != Import.Status.SUCCEEDED:
        raise RuntimeError(f"The demo file {entry['file']} did not import: {batch.errors}")
    return batch


def work_records(review: Review) -> dict[str, list[int]]:
    """Each work of the key (by id) -> its records' ids in the review, in the key's file order."""
    batches = {b.filename: b.pk for b in review.imports.filter(status=Import.Status.SUCCEEDED)}
    ids = {
        (batch_id, position): pk
        for pk, batch_id, position in Record.objects.filter(review=review).values_list("pk", "batch_id", "position")
    }
    return {
        work["id"]: [ids[(batches[name], position)] for name, position in work["in"].items()]
        for work in answer_key()["works"]
    }
