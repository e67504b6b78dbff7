"""Run one whole import (parse, normalize, store, deduplicate) of a file in a fresh process; print seconds.

    python tests/bench/import_run.py FILE        (DJANGO_SETTINGS_MODULE and DATABASE_URL from the environment)
Used by bench_import.py, which also measures this process's peak memory."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402

from reviews.models import Import, Membership, Review  # noqa: E402
from reviews.services.imports import import_process  # noqa: E402


def main(path: str) -> None:
    call_command("migrate", verbosity=0)
    user, _ = get_user_model().objects.get_or_create(username="bench")
    review = Review.objects.create(title=f"bench {time.time()}", created_by=user)
    Membership.objects.create(review=review, user=user, role="owner")
    with open(path, "rb") as handle:
        batch = Import(review=review, source="bench", filename=Path(path).name, content_hash="bench", size=0)
        batch.file.save("bench.ris", File(handle), save=False)
        batch.save()
    start = time.perf_counter()
    batch = import_process(import_id=batch.pk)
    elapsed = time.perf_counter() - start
    assert batch.status == "succeeded", batch.errors
    print(f"{elapsed:.3f} {batch.records_added} {batch.duplicates_found}")
    review.delete()


if __name__ == "__main__":
    main(sys.argv[1])
