"""Hostile review documents (issue 10, part 3): a Sieve export damaged at random, and crafted values (NUL, numbers
and times no column holds, deep nesting, archives). Each import either makes the review or fails with
ReviewImportError naming where, and a failed one adds nothing."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from typing import Any

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exports import review_load, services
from exports.models import ReviewTransfer
from exports.review_load import ReviewImportError
from exports.tests.test_review_json import erin, export, json_review, ketamine, seed
from exports.tests.test_transfer import counts
from reviews.models import Membership

__all__ = ["erin", "json_review", "ketamine", "seed"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """The path of every value in the document (objects and lists too), for damaging one of them."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += leaves(item, (*path, index))
    return found


def replaced(document: dict[str, Any], path: tuple, value: Any) -> dict[str, Any]:
    damaged = copy.deepcopy(document)
    if not path:
        return damaged
    holder = damaged
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value
    return damaged


HOSTILE_VALUES: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [
            None, "", "\x00", "a\x00b", "x" * 100_000, -1, 0, 2**31, 2**63 - 1, -(2**63), 1e308, True, [], {},
            [[[[[[]]]]]], "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-02-30", "NaN",
            "999999999999.99999999", "-0", "1e5", "alice\n", "../../etc/passwd", "\u202e",
        ]
    ),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)  # fmt: skip


def assert_imports_or_refuses(user: Any, body: bytes) -> None:
    before = counts()
    try:
        review = review_load.review_import(user=user, document_or_file=body)
    except ReviewImportError as exc:
        assert exc.message.strip() and len(str(exc)) < 2000, str(exc)[:300]
        assert counts() == before
        return
    assert review.pk and Membership.objects.filter(review=review, user=user).exists()


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_a_damaged_export_imports_or_is_refused_adding_nothing(cast, json_review, data):
    # Exported once per test (the examples share the test's database).
    document = _documents.setdefault(json_review.review.pk, export(cast.alice, json_review.review.pk))
    path = data.draw(st.sampled_from(leaves(document)))
    value = data.draw(HOSTILE_VALUES)
    damaged = replaced(document, path, value)
    try:
        body = orjson.dumps(damaged)
    except TypeError:  # an integer past 64 bits, which orjson does not write; a file may still hold one
        body = json.dumps(damaged).encode()
    assert_imports_or_refuses(cast.dave, body)


_documents: dict[int, dict[str, Any]] = {}


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0), junk=st.binary(max_size=32))
def test_a_cut_or_spliced_export_is_refused_adding_nothing(cast, cut, junk):
    body = orjson.dumps(export(cast.alice, cast.review.pk))
    at = cut % (len(body) + 1)
    assert_imports_or_refuses(cast.dave, body[:at] + junk + body[at + len(junk) :])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "where,value,said",
    [
        (("review", "title"), "Ketamine\x00", "NUL"),
        (("review", "title"), "x" * 1000, "longer than"),
        (("members", 0, "username"), "alice\n", "expected form"),
        (("review", "created_at"), "0001-01-01T00:00:00+14:00", "not a valid DateTimeField"),
    ],
    ids=["nul", "overlong", "username-newline", "time-out-of-range"],
)
def test_crafted_values_are_refused_with_their_path(cast, where, value, said):
    document = export(cast.alice, cast.review.pk)
    body = orjson.dumps(replaced(document, where, value))
    before = counts()
    with pytest.raises(ReviewImportError) as caught:
        review_load.review_import(user=cast.dave, document_or_file=body)
    assert said in caught.value.message and caught.value.path == ".".join(str(s) for s in where).replace(".0.", "[0].")
    assert counts() == before


@pytest.mark.django_db
def test_nul_anywhere_is_found_in_a_large_document(cast, json_review):
    document = export(cast.alice, json_review.review.pk)
    document["records"][-1]["raw"] = {"TI": ["a\x00b"]}
    with pytest.raises(ReviewImportError, match="NUL") as caught:
        review_load.document_check(orjson.dumps(document))
    assert caught.value.path == f"records[{len(document['records']) - 1}].raw.TI[0]"


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("review.json", b"{" + b" " * 50_000_000 + b"}")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body,said",
    [
        (b"[" * 100_000, "not an object"),
        (b'{"a":' * 100_000, "Not valid JSON"),
        (_zip_bomb(), "Not valid JSON"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 64, "Not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "Not valid JSON"),
    ],
    ids=["deep-array", "deep-object", "zip-bomb", "gzip", "utf16"],
)
def test_what_is_not_a_document_is_refused_without_unpacking(cast, body, said):
    before = counts()
    try:
        transfer = services.review_import_start(user=cast.dave, upload=SimpleUploadedFile("review.json", body))
    except ReviewImportError as exc:  # refused at once
        assert said in exc.message or "Not" in exc.message, exc.message
    else:
        # Stored and queued: the worker refuses it (in this test's transaction the task has not run).
        assert transfer.status == ReviewTransfer.Status.QUEUED
        with pytest.raises(ReviewImportError) as caught:
            review_load.review_import(user=cast.dave, document_or_file=body)
        assert said in caught.value.message, caught.value.message
    assert counts()[:4] == before[:4]


def test_a_hostile_upload_name_is_stored_as_a_plain_name(cast):
    """A caller that is not a browser may send any name: the stored one has no NUL (PostgreSQL refuses it in
    text), no path and no right-to-left override."""
    upload = SimpleUploadedFile("..\\..\\etc/pass\x00wd\u202egnp.json", b'{"schema": "sieve-review/1"}')
    transfer = services.review_import_start(user=cast.dave, upload=upload)
    transfer.refresh_from_db()
    assert transfer.filename == "passwdgnp.json"


def test_an_overlong_schema_version_is_named_in_a_short_message(cast):
    """Found by the fuzz above: the version was echoed whole (megabytes of it) in the refusal."""
    with pytest.raises(ReviewImportError) as caught:
        review_load.review_import(user=cast.dave, document_or_file=orjson.dumps({"schema": "x" * 1_000_000}))
    assert len(str(caught.value)) < 300 and "Unsupported schema version 'xxx" in caught.value.message


def test_a_megabyte_date_is_refused_in_a_short_message(cast, json_review):
    """Found by the fuzz above: datetime's own error repeated the whole value in the refusal."""
    document = export(cast.alice, json_review.review.pk)
    document["review"]["created_at"] = "x" * 1_000_000
    with pytest.raises(ReviewImportError) as caught:
        review_load.review_import(user=cast.dave, document_or_file=orjson.dumps(document))
    assert len(str(caught.value)) < 500 and caught.value.path == "review.created_at"
