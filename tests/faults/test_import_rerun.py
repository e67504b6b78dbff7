"""An import whose worker dies after deduplicating but before the import is marked done is run again (acks late).
Its merges and its "succeeded" commit together, so the rerun starts from the review as it was: a person's merge
that the dying attempt had extended (and given a new primary record) is still the person's after the rerun."""

from unittest import mock

import pytest
from django.core.files.base import ContentFile

from reviews.models import DuplicateGroup, Import, Record
from reviews.services import imports
from reviews.services.duplicates import duplicates_merge

pytestmark = pytest.mark.django_db

TITLE = "Ketamine as an adjuvant to opioids for cancer pain: a randomised controlled trial"


def _ris(*, abstract: str = "", doi: str = "") -> bytes:
    lines = ["TY  - JOUR", f"TI  - {TITLE}", "AU  - Hardy, J.", "AU  - Quinn, S.", "PY  - 2012", "JO  - J Clin Oncol",
             "VL  - 30", "SP  - 3611", "EP  - 3617"]  # fmt: skip
    lines += [f"AB  - {abstract}"] if abstract else []
    lines += [f"DO  - {doi}"] if doi else []
    return ("\n".join([*lines, "ER  - ", ""])).encode()


def _imported(review, content: bytes, name: str) -> Import:  # type: ignore[no-untyped-def]
    batch = Import(review=review, source=name, filename=f"{name}.ris", content_hash=name)
    batch.file.save(f"{name}.ris", ContentFile(content), save=False)
    batch.save()
    return batch


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so no handler of the import runs (none would in a dead process)."""


def test_a_rerun_after_a_death_between_merging_and_done_keeps_a_persons_merge(cast, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    first = imports.import_process(import_id=_imported(cast.review, _ris(), "embase").pk)
    second = imports.import_process(import_id=_imported(cast.review, _ris(), "cinahl").pk)
    old = list(Record.objects.filter(batch__in=[first, second]).values_list("pk", flat=True))
    DuplicateGroup.objects.filter(review=cast.review).delete()
    Record.objects.filter(pk__in=old).update(duplicate_of=None)
    merged = duplicates_merge(user=cast.bob, review_id=cast.review.pk, record_ids=old)
    # The third copy is the most complete: deduplication adds it to the person's group as its primary record.
    third = _imported(cast.review, _ris(abstract="Pain was no better.", doi="10.1200/JCO.2012.44.6498"), "medline")
    real_progress = imports._progress

    def dies_when_done(batch_id: int, **fields: object) -> None:
        if fields.get("status") == Import.Status.SUCCEEDED:
            raise WorkerKilled
        real_progress(batch_id, **fields)

    with mock.patch.object(imports, "_progress", dies_when_done), pytest.raises(WorkerKilled):
        imports.import_process(import_id=third.pk)
    assert Import.objects.get(pk=third.pk).status == Import.Status.RUNNING  # as a redelivery finds it
    imports.import_process(import_id=third.pk)  # the redelivery

    third.refresh_from_db()
    assert (third.status, third.records_added) == (Import.Status.SUCCEEDED, 1)
    new = Record.objects.get(batch=third)
    group = DuplicateGroup.objects.get(pk=merged.pk)  # the person's group, not one made again by the engine
    assert (group.status, group.decided_by) == (DuplicateGroup.Status.CONFIRMED, cast.bob)
    assert set(group.records.values_list("pk", flat=True)) == {*old, new.pk} and group.primary_id == new.pk
    assert DuplicateGroup.objects.filter(review=cast.review).count() == 1
    assert set(Record.objects.filter(pk__in=old).values_list("duplicate_of", flat=True)) == {new.pk}
