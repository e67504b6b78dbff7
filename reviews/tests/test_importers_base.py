"""The shared pieces of the importers: line splitting, decoding, identifiers."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviews.importers import ImportFormatError, decode, parse_file
from reviews.importers.base import ParsedRecord, clean_text, iter_lines, normalize_doi
from reviews.importers.ris import tag_lines


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab\n", max_size=60), st.integers(min_value=1, max_value=8))
def test_iter_lines_is_str_split(text, block):
    assert list(iter_lines(text, block)) == text.split("\n")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="AT1 -x\n", max_size=80), st.integers(min_value=1, max_value=12))
def test_ris_tag_lines_give_each_line_once_split_at_its_tag(text, block):
    """The RIS splitter's one match per line: tag + "  -" + rest is the line, for every line, in order."""
    pairs = list(tag_lines(text, block))
    assert [f"{tag}  -{rest}" if tag else rest for tag, rest in pairs] == text.split("\n")
    lines = text.split("\n")
    assert all(
        tag == "" or (len(tag) == 2 and rest == line[5:]) for (tag, rest), line in zip(pairs, lines, strict=True)
    )


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("https://doi.org/10.1200/JCO.2012.42.1081", "10.1200/jco.2012.42.1081"),
        ("doi:10.1007/BF03011718.", "10.1007/bf03011718"),
        ("http://dx.doi.org/10.1002/14651858.CD003351.pub3", "10.1002/14651858.cd003351.pub3"),
        ("not a doi", ""),
        # The Cochrane Library's link to a CENTRAL entry carries the entry's DOI, not the article's.
        ("https://www.cochranelibrary.com/central/doi/10.1002/central/CN-01234567/full", ""),
        ("10.1002/central/CN-01234567", ""),
    ],
)
def test_normalize_doi(raw, expected):
    assert normalize_doi(raw) == expected


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (b"%PDF-1.7 ...", "this is a PDF document, not a bibliographic export"),
        (b"PK\x03\x04...", "this is a zip archive"),
        (b"\x1f\x8b\x08...", "gzip-compressed"),
        (bytes(range(256)) * 40, "not text"),
    ],
)
def test_decode_refuses_what_is_not_text(data, message):
    with pytest.raises(ImportFormatError, match=message):
        decode(data)


def test_decode_latin1_and_stray_nul():
    assert decode("TI  - Caf\u00e9 study\n".encode("latin-1")) == "TI  - Café study\n"
    assert "\x00" not in decode(b"TY  - JOUR\n" + b"TI  - x" * 3000 + b"\x00\nER  - \n")


def test_mixed_encoding_far_into_a_file_is_read_or_refused_clearly():
    """Latin-1 and UTF-8 mixed 2 MB into a file: one encoding is chosen for the whole file (mojibake shows
    where the other was used), or the import is refused with the line; never an uncaught UnicodeError."""
    data = b"TY  - JOUR\nTI  - plain ascii\nER  - \n" * 80_000
    data += b"TY  - JOUR\nTI  - " + "caf\u00e9 ".encode("latin-1") + "na\u00efve \u4e2d".encode() + b"\nER  - \n"
    try:
        fmt, records = parse_file(data, filename="big.ris")
    except ImportFormatError as exc:
        assert exc.line is not None and exc.message
    else:
        assert fmt == "ris" and len(records) == 80_001
        assert records[-1].title.startswith("caf")


raw_values = st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=3), st.lists(raw_values, max_size=4), max_size=6),
    raw_values,
    raw_values,
)
def test_raw_tags_round_trip(raw, title, abstract):
    from reviews import raw_tags

    fields = {"title": title, "abstract": abstract}
    stored = raw_tags.compact(raw, fields)
    assert raw_tags.expand(stored, fields) == raw
    if abstract and any(abstract in values for values in raw.values()):
        assert any({"=": "abstract"} in values for values in stored.values()) or (abstract == title and title)


def _clean_reference(text: str, keep_paragraphs: bool) -> str:
    """clean_text without its fast path."""
    if not keep_paragraphs or "\n" not in text:
        return " ".join(text.split())
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab \t\n\r\x0b\x0c\x1c\x1f\u00a0\u2003é", min_size=120, max_size=300), st.booleans())
def test_clean_text_fast_path_changes_nothing_it_should_clean(text, keep_paragraphs):
    assert clean_text(text, keep_paragraphs=keep_paragraphs) == _clean_reference(text, keep_paragraphs)
    long_clean = "word " * 40 + "end"
    assert clean_text(long_clean) is long_clean  # the fast path: no copy


@pytest.mark.parametrize("placeholder", ["-", "n/a", "N.p.", "No pagination specified", " - "])
def test_placeholder_pages_are_no_pages_in_every_format(placeholder):
    # RIS joined SP/EP with this rule while other formats kept "-": a record then changed on a RIS round trip.
    assert ParsedRecord(title="x", pages=placeholder).finish().pages == ""
    assert ParsedRecord(title="x", pages="123-130").finish().pages == "123-130"
