"""The record exports (RIS and CSV) of a 100,000-record review through the real streaming API response, against
rispy's dump of the same records in the same run: records per second, time ratio, time to the first bytes and
peak memory (tracemalloc) of each.

Asserts only memory (no timed assertion): the streaming export of 100,000 records peaks at no more than twice
the export of 10,000 (constant memory: the records are read in pages, never all at once) and under an absolute
cap, while rispy, which needs every record as a dict first, grows with the review.

Runs on the configured database (`DATABASE_URL` for PostgreSQL, else SQLite); `SIEVE_BENCH_EXPORT_RECORDS`
changes the size of the large review (the small one is a tenth of it)."""

import os
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any, cast

import pytest
import rispy
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from reviews.models import Import, Membership, Record, Review
from screening.models import Decision, Outcome

pytestmark = pytest.mark.django_db
RECORDS = int(os.environ.get("SIEVE_BENCH_EXPORT_RECORDS", "100000"))
SMALL = RECORDS // 10
CAP_MB = 40  # the streaming export's peak, whatever the size of the review

WORDS = (
    "ketamine opioid cancer pain randomised trial placebo morphine adjuvant analgesia crossover intrathecal "
    "subcutaneous intravenous bolus dose response neuropathic refractory palliative care outcome adverse events"
).split()


def _review(owner: User, size: int, title: str) -> Review:
    review = Review.objects.create(title=title, created_by=owner)
    Membership.objects.create(review=review, user=owner, role="owner")
    batch = Import.objects.create(
        review=review, source="MEDLINE (Ovid)", filename="b.ris", content_hash=title, status=Import.Status.SUCCEEDED
    )
    for start in range(0, size, 10_000):
        Record.objects.bulk_create(
            Record(
                review=review,
                batch=batch,
                position=i,
                title=f"{' '.join(WORDS[i % 7 : i % 7 + 9]).capitalize()} {i}",
                abstract=" ".join(WORDS[(i + k) % len(WORDS)] for k in range(180)).capitalize() + ".",
                authors=["Hardy, J.", "Quinn, S.", f"Author{i % 97}, A."],
                year=1990 + i % 35,
                journal="Journal of Clinical Oncology",
                volume=str(i % 40),
                issue=str(i % 12),
                pages=f"{i % 900 + 1}-{i % 900 + 9}",
                doi=f"10.1200/bench.{i}",
                pmid=str(20_000_000 + i),
                keywords=["ketamine", "cancer pain", "opioid"],
                url=f"https://example.org/record/{i}",
                language="English",
                publication_type="Journal Article",
            )  # fmt: skip
            for i in range(start + 1, min(start + 10_001, size + 1))
        )
    # A quarter of the records decided at title/abstract by the owner, half of those settled.
    ids = list(Record.objects.filter(batch=batch).order_by("id").values_list("id", flat=True)[: size // 4])
    Decision.objects.bulk_create(
        (Decision(review=review, record_id=r, stage="title_abstract", reviewer=owner,
                  decision="exclude" if r % 3 else "include", reason="Wrong population" if r % 3 else "")
         for r in ids),
        batch_size=10_000,
    )  # fmt: skip
    Outcome.objects.bulk_create(
        (Outcome(review=review, record_id=r, stage="title_abstract", status="settled",
                 decision="exclude" if r % 3 else "include") for r in ids[::2]),
        batch_size=10_000,
    )  # fmt: skip
    return review


def _download(client: APIClient, path: str) -> tuple[int, int, float]:
    """(bytes, records, seconds to the first chunk) of a streamed download, read chunk by chunk, not kept."""
    start = time.perf_counter()
    response = client.get(path)
    assert response.status_code == 200
    assert response.streaming
    size, first, ends = 0, 0.0, 0
    for chunk in cast(Any, response).streaming_content:
        if not size:
            first = time.perf_counter() - start
        size += len(chunk)
        ends += chunk.count(b"\nER  - \n") if path.endswith("/ris/") else chunk.count(b"\n")
    return size, ends, first


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024 / 1024
    finally:
        tracemalloc.stop()


def _rispy_entries(review: Review) -> list[dict]:
    """Every record as the dict rispy writes from: what an export built on rispy holds in memory at once."""
    return [
        {
            "type_of_reference": "JOUR",
            "id": str(r["id"]),
            "title": r["title"],
            "authors": r["authors"],
            "year": str(r["year"]),
            "secondary_title": r["journal"],
            "volume": r["volume"],
            "number": r["issue"],
            "start_page": r["pages"],
            "doi": r["doi"],
            "abstract": r["abstract"],
            "keywords": r["keywords"],
            "urls": [r["url"]],
            "language": r["language"],
            "accession_number": f"PMID: {r['pmid']}",
        }  # fmt: skip
        for r in Record.objects.filter(review=review)
        .order_by("id")
        .values(
            "id",
            "title",
            "authors",
            "year",
            "journal",
            "volume",
            "issue",
            "pages",
            "doi",
            "abstract",
            "keywords",
            "url",
            "language",
            "pmid",
        )  # fmt: skip
    ]


def test_record_exports_stream_in_constant_memory_against_rispy():
    owner = User.objects.create_user(username="alice")
    built = time.perf_counter()
    large = _review(owner, RECORDS, "Bench export (large)")
    small = _review(owner, SMALL, "Bench export (small)")
    built = time.perf_counter() - built
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")

    results = {}
    for fmt in ("ris", "csv"):
        big_path, small_path = (f"/api/v1/reviews/{r.pk}/export/{fmt}/" for r in (large, small))
        _download(client, small_path)  # warm: compile queries, import modules
        start = time.perf_counter()
        size, count, first = _download(client, big_path)
        seconds = time.perf_counter() - start
        assert count == (RECORDS if fmt == "ris" else RECORDS + 1), (fmt, count)  # CSV: the header line too
        peak_large = _peak_mb(partial(_download, client, big_path))
        peak_small = _peak_mb(partial(_download, client, small_path))
        results[fmt] = (seconds, size, first, peak_small, peak_large)

    # rispy: the same records, fetched as dicts (all at once: rispy writes from a list) and dumped.
    start = time.perf_counter()
    entries = _rispy_entries(large)
    fetched = time.perf_counter() - start
    start = time.perf_counter()
    text = rispy.dumps(entries)
    dumped = time.perf_counter() - start
    assert text.count("ER  - ") == RECORDS
    del text, entries
    rispy_peak_large = _peak_mb(lambda: rispy.dumps(_rispy_entries(large)))
    rispy_peak_small = _peak_mb(lambda: rispy.dumps(_rispy_entries(small)))

    lines = [
        f"\n[bench] record exports of a {RECORDS:,}-record review on {connection.vendor} (built in {built:.0f} s), "
        f"through the API's streaming response:",
        f"        rispy: fetch as dicts {fetched:.1f} s + rispy.dumps {dumped:.1f} s = "
        f"{RECORDS / (fetched + dumped):,.0f} records/s; peak {rispy_peak_small:.0f} MB at {SMALL:,} records, "
        f"{rispy_peak_large:.0f} MB at {RECORDS:,}",
    ]
    for fmt, (seconds, size, first, peak_small, peak_large) in results.items():
        lines.append(
            f"        {fmt.upper()}: {seconds:.1f} s, {RECORDS / seconds:,.0f} records/s, {size / 1024 / 1024:.0f} MB, "
            f"first bytes after {first * 1000:.0f} ms; {seconds / dumped:.2f} × rispy.dumps, "
            f"{seconds / (fetched + dumped):.2f} × rispy fetch + dumps; peak {peak_small:.1f} MB at {SMALL:,} records, "
            f"{peak_large:.1f} MB at {RECORDS:,} ({peak_large / peak_small:.2f} ×; bound 2 × and {CAP_MB} MB), "
            f"{peak_large / rispy_peak_large:.2f} × rispy's peak"
        )
    print("\n".join(lines), flush=True)
    for fmt, (_, _, _, peak_small, peak_large) in results.items():
        assert peak_large <= 2 * peak_small, (fmt, peak_small, peak_large)
        assert peak_large < CAP_MB, (fmt, peak_large)
