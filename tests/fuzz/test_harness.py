"""The fuzz targets themselves (tests/fuzz/harness.py), without atheris: each takes its seeds without a finding,
and each reports what it should report as one."""

import pytest

from reviews.importers import FORMATS
from tests.fuzz import harness
from tests.fuzz.seeds import all_seeds, seeds


@pytest.mark.parametrize("name", [*FORMATS, "detect"])
def test_each_importer_target_takes_its_seeds(name):
    target = harness.make_target(name)
    found = [data for _fmt, data in all_seeds(shared=False)] if name == "detect" else seeds(name, shared=False)
    assert found
    for data in found:
        target(data)  # a finding would raise


def test_a_target_reports_an_error_without_a_message(monkeypatch):
    from reviews import importers

    def unclear(*args, **kwargs):
        raise importers.ImportFormatError(" ")

    monkeypatch.setattr(importers, "parse_file", unclear)
    target = harness.make_target("ris")  # imports parse_file when made: after the patch
    with pytest.raises(AssertionError, match="unclear ImportFormatError"):
        target(b"TY  - JOUR\nER  - \n")


@pytest.mark.django_db
def test_the_review_json_target_and_its_seeds():
    from exports.review_load import document_check

    target = harness.make_target("review_json")
    first, *others = harness.review_json_seeds()
    assert document_check(first)["schema"] == "sieve-review/1"  # the skeleton is a valid document
    for data in [first, *others, b"[", b"{" * 5000, b'{"schema": "sieve-review/1"}']:
        target(data)
