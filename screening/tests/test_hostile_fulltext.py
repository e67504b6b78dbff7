"""Hostile full-text uploads (issue 10, part 3): files that are not PDFs, and hostile names. Each is refused with a
clear message and stores nothing, or is stored under Sieve's own name inside MEDIA_ROOT with its shown name
cleaned; through the service, the screening page and the API."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.uploads import pdf_problem
from screening import services
from screening.models import FullText
from screening.tests.test_fulltext import PDF, passed, url

__all__ = ["passed"]


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("paper.pdf", PDF + b"\x00" * 10_000_000)  # a PDF inside, and a bomb
    return out.getvalue()


NOT_PDFS = {
    "HTML error page": b"<!DOCTYPE html><html><body>Access denied</body></html>",
    "HTML that quotes a PDF header": b"<html><pre>%PDF-1.4 is what the file should start with</pre></html>%%EOF",
    "zip holding a PDF": _zip(),
    "truncated: the header only": b"%PDF-",
    "truncated: cut in the middle": PDF[:30],
    "Windows program": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00%PDF-1.4 %%EOF",
    "no version": b"%PDF-x\n1 0 obj <<>> endobj\n%%EOF\n",
    "PNG": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "empty": b"",
}


def media_files(root: Path) -> list[Path]:
    return [path for path in Path(root).rglob("*") if path.is_file()] if Path(root).exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(NOT_PDFS))
def test_what_is_not_a_pdf_is_refused_and_nothing_stored(cast, api, web, passed, settings, case):
    record, _ = passed
    data = NOT_PDFS[case]
    with pytest.raises(ValidationError) as caught:
        services.fulltext_upload(
            user=cast.carol, review_id=cast.review.pk, record_id=record.pk, file=SimpleUploadedFile("paper.pdf", data)
        )
    message = caught.value.message_dict["file"][0]
    assert message.startswith("paper.pdf is ") and ("not a PDF" in message or "empty" in message), message
    response = api("carol").put(url(cast, record), {"file": SimpleUploadedFile("paper.pdf", data)}, format="multipart")
    assert response.status_code == 400 and ("not a PDF" in response.json()["detail"] or "empty" in str(response.json()))
    page = web("carol").post(
        f"/reviews/{cast.review.pk}/records/{record.pk}/fulltext/",
        {"action": "upload", "file": SimpleUploadedFile("paper.pdf", data)},
        follow=True,
    )
    shown = page.content.decode()
    assert "not a PDF" in shown or "empty" in shown or "Choose a PDF" in shown
    assert not FullText.objects.filter(record=record).exists()
    assert media_files(settings.MEDIA_ROOT) == []


def test_real_pdfs_pass_the_check():
    for data in (PDF, b"\n\n" + PDF, PDF + b"\r\n", PDF + b" " * 500, b"%PDF-2.0\n%%EOF"):
        assert pdf_problem(io.BytesIO(data), len(data)) is None, data[:20]


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=3000))
def test_the_pdf_check_says_why_or_accepts(data):
    problem = pdf_problem(io.BytesIO(data), len(data))
    assert problem is None or problem.strip()
    if problem is None:
        assert b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]


HOSTILE_NAMES = {
    "parent directories": ("../../etc/passwd.pdf", "passwd.pdf"),
    "windows path": ("C:\\x\\..\\y.pdf", "y.pdf"),
    "NUL byte": ("pa\x00per.pdf", "paper.pdf"),
    "right-to-left override": ("report\u202efdp.exe.pdf", "reportfdp.exe.pdf"),
    "300 characters": ("n" * 300 + ".pdf", "n" * 251 + ".pdf"),
    "only separators": ("..\\", "full-text.pdf"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_hostile_names_are_cleaned_and_stored_inside_media_root(cast, passed, settings, case):
    record, _ = passed
    name, shown = HOSTILE_NAMES[case]
    found = services.fulltext_upload(
        user=cast.carol, review_id=cast.review.pk, record_id=record.pk, file=SimpleUploadedFile(name, PDF)
    )
    found.refresh_from_db()
    assert found.filename == shown
    root = Path(settings.MEDIA_ROOT).resolve()
    assert Path(found.file.path).resolve().is_relative_to(root)
    assert all(path.resolve().is_relative_to(root) for path in media_files(root))


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["parent directories", "windows path", "right-to-left override", "300 characters"])
def test_hostile_names_through_the_api_and_the_page(cast, api, web, passed, settings, case):
    record, _ = passed
    name, _shown = HOSTILE_NAMES[case]
    response = api("carol").put(url(cast, record), {"file": SimpleUploadedFile(name, PDF)}, format="multipart")
    assert response.status_code == 200, response.json()
    filename = response.json()["filename"]
    assert "/" not in filename and "\\" not in filename and "\u202e" not in filename and len(filename) <= 255
    page = web("carol").post(
        f"/reviews/{cast.review.pk}/records/{record.pk}/fulltext/",
        {"action": "upload", "file": SimpleUploadedFile(name, PDF)},
    )
    assert page.status_code == 302
    stored = FullText.objects.get(record=record)
    assert "/" not in stored.filename and "\u202e" not in stored.filename
    assert Path(stored.file.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=400))
def test_any_name_is_stored_safely(cast, passed, settings, name):
    record, _ = passed
    if Path(name).name in ("", ".", ".."):
        name = name + "x"  # Django's own check refuses these before Sieve sees them
    try:
        found = services.fulltext_upload(
            user=cast.carol, review_id=cast.review.pk, record_id=record.pk, file=SimpleUploadedFile(name, PDF)
        )
    except ValidationError as exc:  # pragma: no cover - no name is refused today; a message if one is
        assert exc.messages
        return
    found.refresh_from_db()
    assert found.filename and len(found.filename) <= 255 and "\x00" not in found.filename
    assert "/" not in found.filename and "\\" not in found.filename
    assert Path(found.file.path).resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve())
