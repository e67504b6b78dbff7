"""`load_demo`: the ketamine demo loaded through the services matches its answer key (core/demo/sources/key.json):
the records and duplicates the deduplicator finds, nothing screened, the team; a second run changes nothing;
`--reset` loads it afresh; `--complete` finishes the review with the PRISMA numbers the key expects."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core.demo import load as demo
from core.demo.complete import NOT_POOLED, TRIALS, complete
from extraction.models import Study
from grading.models import CertaintyRating, RobAssessment, RobJudgement
from reviews.models import DuplicateGroup, Import, Membership, Record, Review
from screening.models import Decision, FullText, Outcome, ScreeningSettings, Stage
from screening.selectors import prisma_counts
from synthesis.models import Analysis

pytestmark = pytest.mark.django_db
KEY = demo.answer_key()


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    # The password file and the uploads go to the test's own folder, not the checkout's var/.
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "media"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def the_review() -> Review:
    return Review.objects.get(title=demo.DEMO_TITLE)


def copies(kind: str) -> int:
    """Records beyond the first of each work the key marks `kind` ("auto" or "queued")."""
    return sum(len(work["in"]) - 1 for work in KEY["works"] if work["duplicate"] == kind)


def snapshot() -> tuple:
    return (
        list(Review.objects.values_list("pk", "version")),
        Record.objects.count(),
        list(DuplicateGroup.objects.values_list("pk", "status")),
        Import.objects.count(),
        list(Membership.objects.values_list("pk", "role")),
    )


def test_load_imports_the_five_files_and_leaves_screening_to_the_team():
    output = run()
    review = the_review()
    password = (settings.VAR_DIR / "demo_password").read_text().strip()
    assert f"Password for each: {password}" in output
    assert "author1 (owner), author2 (reviewer), editor (editor)" in output
    assert dict(review.memberships.values_list("user__username", "role")) == {
        "author1": Membership.Role.OWNER, "author2": Membership.Role.REVIEWER, "editor": Membership.Role.EDITOR,
    }  # fmt: skip
    assert Review.objects.filter(pk=review.pk, created_by__username="author1").exists()
    screening = ScreeningSettings.objects.get(review=review)
    assert (screening.reviewers_needed, screening.blinded) == (2, True)
    assert "ketamine" in screening.terms(screening.include_terms) and "child*" in screening.terms(
        screening.exclude_terms
    )

    imports = {i.filename: i for i in review.imports.all()}
    assert set(imports) == {f["file"] for f in KEY["files"]}
    for entry in KEY["files"]:
        batch = imports[entry["file"]]
        assert (batch.status, batch.source, batch.records_added) == ("succeeded", entry["source"], entry["records"])
        assert "ketamin" in batch.strategy.lower(), f"{entry['source']} has no search strategy"
    assert Record.objects.filter(review=review).count() == KEY["expected"]["records"]

    # The certain duplicates are merged, the uncertain ones wait for a person: each work is one record to
    # screen except the queued ones, whose copies are still apart.
    assert Record.objects.filter(review=review).exclude(duplicate_of=None).count() == copies("auto")
    records = demo.work_records(review)
    for work in KEY["works"]:
        heads = {r.duplicate_of_id or r.pk for r in Record.objects.filter(pk__in=records[work["id"]])}
        assert len(heads) == (len(work["in"]) if work["duplicate"] == "queued" else 1), work["id"]
    pending = DuplicateGroup.objects.filter(review=review, status=DuplicateGroup.Status.PENDING)
    assert pending.count() >= sum(work["duplicate"] == "queued" for work in KEY["works"]) >= 1
    assert copies("auto") + copies("queued") == KEY["expected"]["duplicates_removed"]

    assert not Decision.objects.exists() and not Outcome.objects.exists() and not FullText.objects.exists()

    # Later starts (`make run` calls it every time) only print the login.
    before = snapshot()
    again = run()
    assert snapshot() == before
    assert f"Password for each: {password}" in again and "Imported" not in again


def test_reset_deletes_the_demo_review_and_loads_it_again():
    run()
    first = the_review()
    output = run("--reset")
    assert "Deleted the demo review." in output
    assert not Review.objects.filter(pk=first.pk).exists()
    review = the_review()
    assert Record.objects.filter(review=review).count() == KEY["expected"]["records"]
    assert review.imports.count() == len(KEY["files"])


def test_until_goes_with_complete():
    with pytest.raises(CommandError, match="--until goes with --complete"):
        run("--until", "rob")


def test_complete_until_a_stage_stops_after_it():
    run()
    review = the_review()
    users = {m.user.username: m.user for m in review.memberships.select_related("user")}
    complete(review, users=users, until="screening", log=lambda line: None)
    screened = Outcome.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT)
    assert screened.count() == KEY["expected"]["screened"]
    assert not screened.filter(status=Outcome.Status.CONFLICT).exists()
    assert not FullText.objects.filter(review=review).exists()
    assert not Study.objects.filter(review=review).exists()


def test_complete_finishes_the_review_as_the_key_says():
    output = run("--complete")
    assert "Certainty of Pain intensity: very low, signed off by the editor" in output
    review = the_review()
    expected = KEY["expected"]
    counts = prisma_counts(review=review)
    assert (
        counts.identified, counts.duplicates_removed, counts.screened, counts.excluded_screening, counts.not_retrieved,
        counts.assessed, counts.reports_excluded, counts.studies_included, counts.reports_included,
    ) == (
        expected["records"], expected["duplicates_removed"], expected["screened"], expected["ta_excluded"],
        expected["not_retrieved"], expected["fulltext_assessed"], expected["fulltext_excluded"],
        expected["included_studies"], expected["included_reports"],
    )  # fmt: skip
    assert not DuplicateGroup.objects.filter(review=review, status=DuplicateGroup.Status.PENDING).exists()
    resolved = Outcome.objects.filter(review=review, stage=Stage.TITLE_ABSTRACT, status=Outcome.Status.RESOLVED)
    assert resolved.count() == expected["conflicts"]
    assert set(resolved.values_list("resolved_by__username", flat=True)) == {"editor"}
    assert not Outcome.objects.filter(review=review, status=Outcome.Status.CONFLICT).exists()
    pdfs = FullText.objects.filter(review=review, not_retrieved=False)
    assert pdfs.count() == expected["fulltext_assessed"]
    assert all(f.file.open("rb").read(5) == b"%PDF-" for f in pdfs)

    studies = {s.label: s for s in Study.objects.filter(review=review)}
    assert set(studies) == set(TRIALS)
    assert studies["Hardy 2012"].reports.count() == 2

    consensus = RobAssessment.objects.filter(review=review, assessor__isnull=True)
    assert consensus.count() == 3 and set(consensus.values_list("status", "overall")) == {("complete", "unclear")}
    assert RobAssessment.objects.filter(review=review, assessor__isnull=False).count() == 6
    assert set(RobJudgement.objects.filter(assessment__in=consensus).values_list("judgement", flat=True)) == {"unclear"}

    analyses = Analysis.objects.filter(review=review)
    assert analyses.exists()
    assert set(analyses.values_list("status", "pooled", "not_pooled_reason")) == {("current", False, NOT_POOLED)}
    pain = CertaintyRating.objects.filter(review=review, outcome__name="Pain intensity").values_list(
        "level", "risk_of_bias", "imprecision", "status", "signed_off_by__username"
    )
    assert list(pain) == [("very_low", -1, -2, "signed_off", "editor")]

    # Completed, it is left alone: a second --complete does not screen twice.
    before = Decision.objects.count()
    assert "has screening decisions already" in run("--complete")
    assert Decision.objects.count() == before
