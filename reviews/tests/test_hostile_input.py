"""Hostile input to the imports (issue 10, part 3): every importer and every way in (the parser, the import
service end to end, the upload page and the API) is fed damaged, random and crafted files. Each case either
imports records or fails with a clear message that says where, never an uncaught exception, and a failed import
stores no records.

Hypothesis budgets are small (CI); tests/fuzz/ runs the same targets coverage-guided for as long as wanted. The
worst cases (huge lines, a million records, deep nesting) are in test_hostile_limits.py.
"""

from __future__ import annotations

import codecs
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import CharField
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews.importers import FORMATS, ImportFormatError, ParsedRecord, parse_file
from reviews.importers.base import MAX_MESSAGE
from reviews.models import Import, Record
from reviews.services.imports import import_process, import_start
from tests.fuzz.seeds import seeds

GENERIC_FALLBACK = "could not be read after record"

# --- helpers ---------------------------------------------------------------------------------------------------


def parses_or_refuses(data: bytes, **kwargs: str | None) -> list[ParsedRecord] | ImportFormatError:
    """The records, or the error; fails on anything else and on an error that does not say what is wrong."""
    try:
        _name, records = parse_file(data, **kwargs)  # type: ignore[arg-type]
    except ImportFormatError as exc:
        assert exc.message.strip(), "an ImportFormatError without a message"
        assert len(exc.message) <= MAX_MESSAGE
        # The generic fallback means a parser tripped over an exception it did not expect.
        assert GENERIC_FALLBACK not in exc.message, exc.message
        return exc
    assert records and all(isinstance(record, ParsedRecord) for record in records)
    return records


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A seed damaged at the byte level: bytes flipped, inserted, deleted, a block repeated, cut off, or two
    seeds spliced."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for operation in draw(st.lists(st.integers(0, 5), min_size=1, max_size=5)):
        at = draw(st.integers(0, len(data)))
        if operation == 0 and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif operation == 1:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif operation == 2:
            del data[at : at + draw(st.integers(1, 64))]
        elif operation == 3:
            piece = bytes(data[at : at + draw(st.integers(1, 200))])
            data[at:at] = piece * draw(st.integers(1, 20))
        elif operation == 4:
            del data[at:]
        else:
            other = draw(st.sampled_from(corpus))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(1, 500))]
    return bytes(data)


SEEDS = {fmt: seeds(fmt, shared=False) for fmt in FORMATS}
ALL_SEEDS = [data for found in SEEDS.values() for data in found]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)


def test_every_importer_has_seeds():
    assert all(SEEDS[fmt] for fmt in FORMATS), [fmt for fmt in FORMATS if not SEEDS[fmt]]
    # Each format's first seed is a whole, valid file: the fuzzing starts from records that parse (the others
    # are the first SEED_BYTES of larger files, cut off: a damage of their own).
    for fmt, found in SEEDS.items():
        result = parses_or_refuses(found[0], format=fmt, filename=f"seed.{fmt}")
        assert isinstance(result, list), (fmt, result)
        assert parse_file(found[0], filename="upload.txt")[0] == fmt  # and is detected as its format


# --- every importer's parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(FORMATS))
@FUZZ
@given(data=st.data())
def test_every_importer_parses_or_refuses_damaged_files(fmt, data):
    damaged = data.draw(mutated(SEEDS[fmt]))
    parses_or_refuses(damaged, format=fmt, filename=f"upload.{fmt}")
    parses_or_refuses(damaged, filename="upload.txt")  # detected, as an upload without a chosen format is


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=20, deadline=None)
@given(data=st.binary(max_size=2000))
def test_every_importer_parses_or_refuses_random_bytes(fmt, data):
    parses_or_refuses(data, format=fmt)


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=500), fmt=st.sampled_from([None, *FORMATS]))
def test_random_text_in_any_encoding_parses_or_is_refused(text, fmt):
    for encoding in ("utf-8", "utf-16", "utf-16-le", "utf-32"):
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:  # lone surrogates
            continue
        parses_or_refuses(data, format=fmt, filename="upload.txt")


def test_shared_real_exports_damaged_parse_or_are_refused(shared_data):
    """The real exports in ../shared/data (skipped, with the reason shown, when absent), damaged."""
    corpus = [data for fmt in FORMATS for data in seeds(fmt, shared=True)]
    assert len(corpus) > len(ALL_SEEDS), "no shared export was found among the fuzz seeds"

    @FUZZ
    @given(data=st.data())
    def check(data):
        parses_or_refuses(data.draw(mutated(corpus)), filename="upload.txt")

    check()


# --- the import service end to end ------------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def imported(cast, data: bytes, name: str = "upload.txt", **fields) -> Import:
    """Upload through the service and process as the worker does; the import as it ended."""
    batch = import_start(
        user=cast.alice, review_id=cast.review.pk, file=SimpleUploadedFile(name, data), source="MEDLINE",
        confirm_duplicate_file=True, **fields,
    )  # fmt: skip
    return import_process(import_id=batch.pk)


def assert_clean_outcome(batch: Import) -> None:
    """Succeeded with every record stored, or failed with clear messages and nothing stored."""
    stored = Record.objects.filter(batch=batch).count()
    if batch.status == Import.Status.SUCCEEDED:
        assert stored == batch.records_added > 0
        return
    assert batch.status == Import.Status.FAILED, batch.status
    assert stored == 0 and batch.records_added == 0
    assert batch.errors and all(error["message"].strip() for error in batch.errors), batch.errors
    assert all(GENERIC_FALLBACK not in error["message"] for error in batch.errors), batch.errors
    assert all("internal error" not in error["message"] for error in batch.errors), batch.errors


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_service_imports_damaged_files_or_fails_storing_nothing(cast, media, data):
    fmt = data.draw(st.sampled_from([None, *FORMATS]))
    damaged = data.draw(mutated(ALL_SEEDS))
    try:
        batch = imported(cast, damaged, format=fmt or "")
    except ValidationError as exc:  # refused at once (an empty file): said, and nothing stored
        assert exc.messages and not damaged
        return
    assert_clean_outcome(batch)


def test_bibtex_does_not_log_a_line_per_broken_block_nor_quote_it_whole(caplog):
    with pytest.raises(ImportFormatError) as caught:
        parse_file(b"@article{" * 2000, format="bibtex")
    assert len(caplog.records) < 10
    # The entry's "key" is the rest of the file: the message quoted all of it (10 MB for a 10 MB file).
    assert len(caught.value.message) < 300, len(caught.value.message)


def test_messages_are_bounded_whatever_they_quote():
    error = ImportFormatError("x" * 10_000_000, line=3)
    assert len(error.message) == MAX_MESSAGE and error.message.endswith("…") and str(error).startswith("line 3: x")


@pytest.mark.parametrize("depth,refused", [(8, False), (5000, True)])
def test_endnote_nesting_is_bounded(depth, refused):
    """Each element's path was joined from all the elements around it: 200,000 nested elements hung the parser
    (quadratic). An EndNote record is four elements deep."""
    data = XML_IMPORTERS["endnote_xml"][0] % (b"<b>" * depth + b"A title" + b"</b>" * depth)
    if refused:
        with pytest.raises(ImportFormatError, match="nested more than 64 deep") as caught:
            parse_file(data, format="endnote_xml")
        assert caught.value.line == 1
    else:
        _fmt, (record,) = parse_file(data, format="endnote_xml")
        assert record.raw["titles/title/" + "/".join(["b"] * depth)] == ["A title"]


@pytest.mark.django_db
def test_service_imports_damaged_real_exports_or_fails_storing_nothing(cast, media, shared_data):
    """The real exports of ../shared/data (skipped, with the reason shown, when absent), damaged, end to end."""
    corpus = [data for fmt in FORMATS for data in seeds(fmt, shared=True)]

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data):
        damaged = data.draw(mutated(corpus))
        try:
            batch = imported(cast, damaged)
        except ValidationError as exc:
            assert exc.messages and not damaged
            return
        assert_clean_outcome(batch)

    check()


# --- XML bombs, external entities and external DTDs -----------------------------------------------------------

XML_IMPORTERS = {
    "endnote_xml": (b"<xml><records><record><titles><title>%s</title></titles></record></records></xml>", "x.xml"),
    "ictrp_xml": (
        b"<Trials_downloaded_from_ICTRP><Trial><TrialID>NCT09912345</TrialID><Public_title>%s</Public_title>"
        b"</Trial></Trials_downloaded_from_ICTRP>",
        "ictrp.xml",
    ),
}
XML_ATTACKS = {
    "billion laughs": (
        b'<!DOCTYPE r [<!ENTITY l0 "lol">'
        + b"".join(b'<!ENTITY l%d "%s">' % (n, (b"&l%d;" % (n - 1)) * 10) for n in range(1, 10))
        + b"]>",
        b"&l9;",
        "entit",
    ),
    "quadratic blow-up": (b'<!DOCTYPE r [<!ENTITY big "' + b"x" * 100_000 + b'">]>', b"&big;" * 1000, "entit"),
    "external entity": (b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;", "entit"),
    "parameter entity": (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>', b"x", "entit"),
    "external DTD": (b'<!DOCTYPE r SYSTEM "file:///etc/passwd">', b"x", "external definition"),
    "external DTD over the network": (
        b'<!DOCTYPE r PUBLIC "-//A//B//EN" "http://127.0.0.1:9/evil.dtd">',
        b"x",
        "external definition",
    ),
}


def xml_attack(fmt: str, attack: str) -> tuple[bytes, str, str]:
    body, filename = XML_IMPORTERS[fmt]
    doctype, content, said = XML_ATTACKS[attack]
    return b'<?xml version="1.0"?>\n' + doctype + b"\n" + body % content, filename, said


@pytest.mark.parametrize("attack", list(XML_ATTACKS))
@pytest.mark.parametrize("fmt", list(XML_IMPORTERS))
def test_xml_attacks_are_refused_by_every_xml_importer(fmt, attack):
    data, filename, said = xml_attack(fmt, attack)
    for chosen in (fmt, None):
        with pytest.raises(ImportFormatError) as caught:
            parse_file(data, filename=filename, format=chosen)
        # Detected: a DOCTYPE longer than the sniffed head hides the root, and the format is not recognised.
        assert said in caught.value.message or (chosen is None and "not recognise" in caught.value.message)
        assert "root:" not in caught.value.message and "lollol" not in caught.value.message


@pytest.mark.django_db
@pytest.mark.parametrize("attack", list(XML_ATTACKS))
@pytest.mark.parametrize("fmt", list(XML_IMPORTERS))
def test_xml_attacks_through_the_service_store_nothing(cast, media, fmt, attack):
    data, filename, said = xml_attack(fmt, attack)
    batch = imported(cast, data, name=filename, format=fmt)
    assert batch.status == Import.Status.FAILED and said in batch.errors[0]["message"]
    assert_clean_outcome(batch)


def test_a_plain_internal_doctype_is_still_read():
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE xml>\n'
        + XML_IMPORTERS["endnote_xml"][0] % b"A title"
    )  # fmt: skip
    _fmt, (record,) = parse_file(data, filename="x.xml")
    assert record.title == "A title"


# --- archives, and files that are not exports ---------------------------------------------------------------


def zip_bomb() -> bytes:
    """A zip whose one member inflates 1,000-fold (100 MB of zeros from ~100 KB)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("records.ris", b"\x00" * 100_000_000)
    return out.getvalue()


NOT_EXPORTS = {
    "zip bomb named .ris": (zip_bomb, "zip archive"),
    "gzip": (lambda: b"\x1f\x8b\x08\x00" + b"\x00" * 100, "gzip"),
    "Word document": (lambda: b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" + b"\x00" * 50, "zip archive"),
    "PDF": (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    "Windows program": (lambda: b"MZ\x90\x00\x03\x00\x00\x00\xff\xff" + bytes(range(256)) * 4, "not text"),
    "PNG": (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
    "UTF-16 without a BOM": (lambda: "TY  - JOUR\nTI  - x\nER  - \n".encode("utf-16-le"), ""),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(NOT_EXPORTS))
def test_archives_and_binaries_are_refused_without_unpacking(cast, media, case):
    make, said = NOT_EXPORTS[case]
    data = make()
    result = parses_or_refuses(data, filename="records.ris")
    batch = imported(cast, data, name="records.ris")
    if isinstance(result, ImportFormatError):
        assert said in result.message
        assert batch.status == Import.Status.FAILED and said in batch.errors[0]["message"]
    assert_clean_outcome(batch)


# --- encodings and NUL -------------------------------------------------------------------------------------------

RIS = "TY  - JOUR\nTI  - Café naïve 中文 trial\nAU  - Müller, J.\nPY  - 2012\nER  - \n"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF16_LE + RIS.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + RIS.encode("utf-16-be"),
        RIS.encode("utf-16-le"),  # no BOM: read, or refused with a message
        codecs.BOM_UTF8 + RIS.encode(),
        RIS.replace("中文 ", "").encode("latin-1"),
        RIS.encode() + "TY  - JOUR\nTI  - Caf\u00e9 again\nER  - \n".encode("latin-1"),  # mixed
        RIS.encode().replace(b"Caf", b"Ca\x00f") + b"TY  - JOUR\nTI  - y\x00\x00\nKW  - \x00\nER  - \n",
    ],
    ids=["utf16-le-bom", "utf16-be-bom", "utf16-no-bom", "utf8-bom", "latin1", "mixed", "nul-bytes"],
)
def test_encodings_and_nul_bytes_import_or_fail_clearly(cast, media, data):
    batch = imported(cast, data, name="records.ris")
    assert_clean_outcome(batch)
    for record in Record.objects.filter(batch=batch):
        assert "\x00" not in record.title + json.dumps(record.raw) + json.dumps(record.keywords)


CTGOV_ESCAPES = {
    "NUL escape": ("Ketamine\\u0000 trial", "Ketamine trial"),
    "lone surrogate": ("Ketamine \\ud800trial", "Ketamine \ufffdtrial"),
    "escaped backslash before u0000": ("a\\\\u0000b", "a\\u0000b"),
    "surrogate pair": ("pain \\ud83d\\ude00", "pain \U0001f600"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CTGOV_ESCAPES))
def test_json_escapes_no_column_can_store_are_read_safely(cast, media, case):
    """PostgreSQL refuses NUL in text and jsonb, and a lone surrogate cannot be encoded: the ClinicalTrials.gov
    JSON importer reads their escapes as nothing and U+FFFD."""
    escaped, title = CTGOV_ESCAPES[case]
    study = {
        "protocolSection": {
            "identificationModule": {"nctId": "NCT09912345", "briefTitle": "@"},
            "conditionsModule": {"conditions": ["@"], "keywords": ["@"]},
        }
    }
    data = json.dumps({"studies": [study]}).replace("@", escaped).encode()
    batch = imported(cast, data, name="ctgov.json")
    assert batch.status == Import.Status.SUCCEEDED, batch.errors
    (record,) = Record.objects.filter(batch=batch)
    assert record.title == title and title in record.keywords


# --- overlong fields -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overlong_fields_are_stored_or_cut_to_their_columns(cast, media):
    """A 1 MB title, 100,000 authors, 10,000 keywords and identifiers longer than their columns: the text columns
    keep them whole, the short columns are cut to their limits (and `raw` keeps the whole value); no database
    error on PostgreSQL's varchar limits."""
    title = "T" * 1_000_000
    data = (
        "TY  - JOUR\n"
        f"TI  - {title}\n"
        + "".join(f"AU  - Author{n}, A.\n" for n in range(100_000))
        + "".join(f"KW  - keyword {n}\n" for n in range(10_000))
        + f"VL  - {'9' * 500}\nIS  - {'8' * 500}\nSP  - {'7' * 500}\nDO  - 10.1234/{'d' * 500}\n"
        + f"AN  - {'1' * 500}\nLA  - {'l' * 500}\nM3  - {'m' * 500}\nUR  - https://x/{'u' * 5000}\n"
        + f"PY  - {'2' * 500}\n"
        + "ER  - \n"
    ).encode()
    batch = imported(cast, data, name="long.ris")
    assert batch.status == Import.Status.SUCCEEDED, batch.errors
    record = Record.objects.get(batch=batch)
    assert record.title == title and len(record.authors) == 100_000 and len(record.keywords) == 10_000
    for column in ("volume", "issue", "pages", "doi", "pmid", "registry_id", "language", "publication_type"):
        field = Record._meta.get_field(column)
        assert isinstance(field, CharField) and field.max_length
        assert len(getattr(record, column)) <= field.max_length, column
    assert record.volume == "9" * 100 and record.raw["VL"] == ["9" * 500]


@pytest.mark.django_db
def test_overlong_form_fields_are_refused_with_a_message(cast, web, api, media):
    long_source = "S" * 300
    response = web("alice").post(
        reverse("reviews:imports", args=[cast.review.pk]),
        {"file": SimpleUploadedFile("x.ris", RIS.encode()), "source": long_source, "source_kind": "database"},
    )
    assert response.status_code == 200 and "at most 200 characters" in response.content.decode()
    response = api("alice").post(
        f"/api/v1/reviews/{cast.review.pk}/imports/",
        {"file": SimpleUploadedFile("x.ris", RIS.encode()), "source": long_source, "source_kind": "database"},
        format="multipart",
    )
    assert response.status_code == 400 and "source" in json.dumps(response.json())
    assert not Import.objects.filter(review=cast.review).exists()


# --- uploaded names -------------------------------------------------------------------------------------------------

HOSTILE_NAMES = {
    "parent directories": ("../../etc/passwd.ris", "passwd.ris"),
    "absolute": ("/etc/cron.d/x.ris", "x.ris"),
    "windows path": ("C:\\x\\..\\y.ris", "y.ris"),
    "NUL byte": ("rec\x00ords.ris", "records.ris"),
    "right-to-left override": ("report\u202esir.ris", "reportsir.ris"),
    "300 characters": ("n" * 300 + ".ris", "n" * 251 + ".ris"),
    "newline": ("a\nb.ris", "ab.ris"),
}


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE_NAMES))
def test_hostile_names_through_the_service_are_stored_safely(cast, media, case):
    name, shown = HOSTILE_NAMES[case]
    batch = imported(cast, RIS.encode(), name=name)
    assert batch.status == Import.Status.SUCCEEDED, batch.errors
    assert batch.filename == shown
    stored = Path(batch.file.path).resolve()
    assert stored.is_relative_to(Path(media).resolve())
    assert all(path.resolve().is_relative_to(Path(media).resolve()) for path in files_under(Path(media)))


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["parent directories", "windows path", "right-to-left override", "300 characters"])
def test_hostile_names_through_the_page_and_the_api(cast, web, api, media, case):
    """Stored and queued (the worker's part is the service test's): in the test's transaction no task runs."""
    name, _shown = HOSTILE_NAMES[case]
    page = web("alice").post(
        reverse("reviews:imports", args=[cast.review.pk]),
        {"file": SimpleUploadedFile(name, RIS.encode()), "source": "MEDLINE", "source_kind": "database"},
    )
    assert page.status_code == 302
    response = api("alice").post(
        f"/api/v1/reviews/{cast.review.pk}/imports/",
        {"file": SimpleUploadedFile(name, RIS.encode()), "source": "MEDLINE", "source_kind": "database",
         "confirm_duplicate_file": True},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 202, response.json()
    for batch in Import.objects.filter(review=cast.review):
        assert "/" not in batch.filename and "\\" not in batch.filename and len(batch.filename) <= 255
        assert "\u202e" not in batch.filename and ".." != batch.filename
        assert Path(batch.file.path).resolve().is_relative_to(Path(media).resolve())


@pytest.mark.django_db
def test_a_name_that_is_only_separators_is_refused_or_named_by_sieve(cast, media):
    with pytest.raises(ValidationError) as caught:
        import_start(
            user=cast.alice, review_id=cast.review.pk, file=SimpleUploadedFile("..\\", RIS.encode()), source="x"
        )
    assert "upload" in caught.value.message_dict["file"][0]
    assert not Import.objects.exists()


@pytest.mark.django_db
def test_nul_in_the_form_fields_is_refused_with_a_message(cast, web, api, media):
    """PostgreSQL cannot store NUL in text: the page and the API say so instead of failing with a 500."""
    fields = {"source": "MED\x00LINE", "source_kind": "database", "strategy": "ketamine\x00"}
    response = web("alice").post(
        reverse("reviews:imports", args=[cast.review.pk]), {"file": SimpleUploadedFile("x.ris", RIS.encode()), **fields}
    )
    assert response.status_code == 200 and "Null characters are not allowed" in response.content.decode()
    response = api("alice").post(
        f"/api/v1/reviews/{cast.review.pk}/imports/",
        {"file": SimpleUploadedFile("x.ris", RIS.encode()), **fields},
        format="multipart",
    )
    assert response.status_code == 400 and "Null characters are not allowed" in json.dumps(response.json())
    assert not Import.objects.exists()


def test_bibtex_with_more_blocks_than_sieve_reads_is_refused_before_parsing():
    from reviews.importers.bibtex import MAX_BLOCKS

    with pytest.raises(ImportFormatError, match=f"at most {MAX_BLOCKS:,} from one BibTeX file"):
        parse_file(b"@a{k,title={t}}\n" * (MAX_BLOCKS + 1), format="bibtex")
    _fmt, records = parse_file(b"@a{k,title={t}}\n" * 100, format="bibtex")
    assert len(records) == 100
