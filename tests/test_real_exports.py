"""Real exports of the same search from three databases (revtools' restoration set: PubMed, Web of Science,
Scopus), imported one after another into one review through the API and the worker, then deduplicated."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from reviews.models import DuplicateGroup, Import, Record

REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER
pytestmark = pytest.mark.django_db(transaction=REAL_WORKER)

FILES = [
    ("restoration_pubmed.nbib", "PubMed", "pubmed", 104),
    ("restoration_WoS.ciw", "Web of Science", "wos", 247),
    ("restoration_scopus.ris", "Scopus", "ris", 286),
]


def test_three_databases_same_search(cast, api, tasks, shared_data):
    client = api("alice")
    for name, source, fmt, count in FILES:
        data = (shared_data / "bibliographic" / "revtools" / name).read_bytes()
        with tasks.run():
            response = client.post(
                f"/api/v1/reviews/{cast.review.pk}/imports/",
                {"file": SimpleUploadedFile(name, data), "source": source, "source_kind": "database"},
                format="multipart",
            )
        assert response.status_code == 202, response.json()
        batch = tasks.wait_import(response.json()["id"])
        assert (batch.status, batch.format, batch.records_added) == ("succeeded", fmt, count), batch.errors
    assert Import.objects.filter(review=cast.review, status="succeeded").count() == 3
    records = Record.objects.filter(review=cast.review)
    assert records.count() == 104 + 247 + 286
    merged = records.filter(duplicate_of__isnull=False)
    # The same search in three databases overlaps heavily; every merged record shares its primary's DOI
    # whenever both have one (no false merge across different DOIs).
    assert merged.count() > 100
    for record in merged.select_related("duplicate_of"):
        primary = record.duplicate_of
        assert primary is not None
        if record.doi and primary.doi:
            assert record.doi == primary.doi, (record.pk, primary.pk)
    # Every group of records sharing a DOI ended up as one publication.
    by_doi: dict[str, set[int]] = {}
    for record in records.exclude(doi=""):
        by_doi.setdefault(record.doi, set()).add(record.duplicate_of_id or record.pk)
    split = {doi: primaries for doi, primaries in by_doi.items() if len(primaries) > 1}
    assert not split, list(split.items())[:5]
    unique = client.get(f"/api/v1/reviews/{cast.review.pk}/records/?duplicates=exclude&page_size=1").json()["count"]
    assert unique == records.count() - merged.count()
    assert DuplicateGroup.objects.filter(review=cast.review, status="auto").exists()
