"""The demo's search results (core/demo/sources/): the generator rewrites them byte for byte, every file imports
cleanly, the answer key agrees with the files, and Sieve's own import and deduplication find exactly the
duplicates the key names."""

import json
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from core.demo import build_sources
from reviews.importers import parse_file
from reviews.models import DuplicateGroup, Import, Record
from reviews.services.duplicates import duplicates_merge
from reviews.services.imports import import_start
from screening.models import DEFAULT_EXCLUSION_REASONS, Stage
from screening.services import judge

SOURCES = build_sources.SOURCES_DIR
KEY = json.loads((SOURCES / "key.json").read_text(encoding="utf-8"))
FILES = [entry["file"] for entry in KEY["files"]]
REAL_WORKER = not settings.CELERY_TASK_ALWAYS_EAGER


def _parsed(file: str) -> tuple[str, list]:
    return parse_file((SOURCES / file).read_bytes(), filename=file)


def _title_abstract(work: dict) -> str | None:
    """The work's agreed title/abstract outcome (Sieve's rule), or None for a conflict."""
    decisions = [(work["screening"]["author1"], ""), (work["screening"]["author2"], "")]
    verdict = judge(Stage.TITLE_ABSTRACT, decisions)
    return verdict[0] if verdict else None


def test_generator_writes_the_committed_files_byte_for_byte(tmp_path):
    build_sources.build(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted([*FILES, "key.json", "README.md"])
    for name in written:
        assert (tmp_path / name).read_bytes() == (SOURCES / name).read_bytes(), f"{name} differs: run the generator"


@pytest.mark.parametrize("entry", KEY["files"], ids=FILES)
def test_each_file_imports_cleanly_with_the_count_the_key_gives(entry):
    fmt, records = _parsed(entry["file"])
    assert fmt == entry["format"]
    assert len(records) == entry["records"]
    assert [(r.line, r.warnings) for r in records if r.warnings] == []
    assert all(r.title and r.abstract and r.year for r in records)


def test_key_names_every_record_once_with_its_title():
    parsed = {file: _parsed(file)[1] for file in FILES}
    seen: Counter = Counter()
    for work in KEY["works"]:
        assert work["in"], work["id"]
        first_file = next(f for f in FILES if f in work["in"])
        assert parsed[first_file][work["in"][first_file] - 1].title == work["title"]
        for file, position in work["in"].items():
            assert 1 <= position <= len(parsed[file])
            seen[(file, position)] += 1
        copies = len(work["in"])
        assert (work["duplicate"] is None) == (copies == 1), work["id"]
        assert work["duplicate"] != "queued" or copies == 2, work["id"]
    assert sum(seen.values()) == len(seen) == sum(len(records) for records in parsed.values())
    assert [w["id"] for w in KEY["works"]] == [f"W{n:03d}" for n in range(1, len(KEY["works"]) + 1)]


def test_screening_story_and_expected_numbers_follow_from_the_works():
    works = KEY["works"]
    outcomes = {}
    for work in works:
        verdict = _title_abstract(work)
        assert (verdict is None) == (work["resolution"] is not None), work["id"]
        outcome = verdict or work["resolution"]
        outcomes[work["id"]] = outcome
        assert (outcome != "exclude") == (work["fulltext"] is not None), work["id"]
        fulltext = work["fulltext"]
        if fulltext and fulltext["decision"] == "exclude":
            assert fulltext["reason"] in DEFAULT_EXCLUSION_REASONS
        elif fulltext:
            assert fulltext["reason"] == ""
        assert (work["trial"] is not None) == bool(fulltext and fulltext["decision"] == "include"), work["id"]
    fulltexts = [w["fulltext"]["decision"] for w in works if w["fulltext"]]
    records = sum(entry["records"] for entry in KEY["files"])
    assert KEY["expected"] == {
        "records": records,
        "duplicates_removed": records - len(works),
        "screened": len(works),
        "ta_excluded": list(outcomes.values()).count("exclude"),
        "conflicts": sum(1 for w in works if w["resolution"] is not None),
        "fulltext_assessed": len(fulltexts) - fulltexts.count("not_retrieved"),
        "not_retrieved": 1,
        "fulltext_excluded": fulltexts.count("exclude"),
        "included_studies": 3,
        "included_reports": fulltexts.count("include"),
    }
    assert {w["trial"] for w in works if w["trial"]} == {"Yang 1996", "Mercadante 2000", "Hardy 2012"}
    assert [w["trial"] for w in works].count("Hardy 2012") == 2
    assert 10 <= KEY["expected"]["conflicts"] <= 14
    assert any(w["duplicate"] == "queued" for w in works)


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_sieve_import_and_deduplication_find_the_duplicates_of_the_key(cast, tasks):
    work_of: dict[tuple[str, int], str] = {
        (file, position): work["id"] for work in KEY["works"] for file, position in work["in"].items()
    }
    for entry in KEY["files"]:
        data = (SOURCES / entry["file"]).read_bytes()
        with tasks.run():
            batch = import_start(
                user=cast.bob,
                review_id=cast.review.pk,
                file=SimpleUploadedFile(entry["file"], data),
                source=entry["source"],
            )
        batch = tasks.wait_import(batch.pk)
        assert batch.status == Import.Status.SUCCEEDED, batch.errors
        assert (batch.format, batch.records_added, batch.warning_count) == (entry["format"], entry["records"], 0)

    def works_in(group: DuplicateGroup) -> list[str]:
        return sorted(work_of[(r.batch.filename, r.position)] for r in group.records.select_related("batch"))

    groups = DuplicateGroup.objects.filter(review=cast.review).prefetch_related("records")
    auto = [works_in(g) for g in groups if g.status == DuplicateGroup.Status.AUTO]
    pending = [works_in(g) for g in groups if g.status == DuplicateGroup.Status.PENDING]
    # One group per work, holding every copy of that work and nothing else.
    expected_auto = [[w["id"]] * len(w["in"]) for w in KEY["works"] if w["duplicate"] == "auto"]
    assert sorted(auto) == sorted(expected_auto)
    expected_pending = [[w["id"]] * 2 for w in KEY["works"] if w["duplicate"] == "queued"]
    assert sorted(pending) == sorted(expected_pending)

    kept = Record.objects.filter(review=cast.review, duplicate_of__isnull=True)
    assert Record.objects.filter(review=cast.review).count() == KEY["expected"]["records"]
    assert kept.count() == KEY["expected"]["screened"] + len(expected_pending)
    # A person confirms the queued pairs: one record per work remains.
    for group in groups:
        if group.status == DuplicateGroup.Status.PENDING:
            ids = [r.pk for r in group.records.all()]
            duplicates_merge(user=cast.bob, review_id=cast.review.pk, record_ids=ids)
    assert kept.count() == KEY["expected"]["screened"]
    assert Record.objects.filter(review=cast.review).count() - kept.count() == KEY["expected"]["duplicates_removed"]


def test_sources_are_where_the_loader_looks():
    assert Path(build_sources.__file__).parent / "sources" == SOURCES
    assert set(FILES) == set(build_sources.FILES)
