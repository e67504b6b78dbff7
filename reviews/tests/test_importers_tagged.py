"""Tagged-format imports (ris, pubmed, wos, refer, endnote_xml) on the real exports in the shared data.

Record counts are established independently of the importers, by counting what starts (or ends) a record in
the file's text: `TY  - ` lines (RIS), `PMID- ` lines (MEDLINE; ERIC's nbib has no PMID, so `OWN - `), `ER`
lines (Web of Science), `%T ` lines (Refer) and `<record>` elements (EndNote XML). The table below also says
how many records each file holds, so a wrong count on either side shows. `shared_data` skips, saying why,
where the data is absent.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews.importers import FORMATS, parse_file
from reviews.importers.base import ImportFormatError, ParsedRecord

BIB = "bibliographic"
MINE = ("ris", "pubmed", "wos", "refer", "endnote_xml")

# file -> (format it must be detected as, records it holds)
TAGGED_FILES: dict[str, tuple[str, int]] = {
    "asreview/baseline_empty_values.ris": ("ris", 4),
    "asreview/baseline_reference_types.ris": ("ris", 61),
    "asreview/baseline_tag-notes.ris": ("ris", 12),
    "asreview/baseline_tag-notes_labels.ris": ("ris", 32),
    "asreview/baseline_zotero.ris": ("ris", 100),
    "asreview/embase.ris": ("ris", 6),
    "asreview/faulty_year.ris": ("ris", 1),
    "asreview/ovid_psycinfo.ris": ("ris", 6),
    "asreview/ovid_zotero.ris": ("ris", 6),
    "asreview/proquest.ris": ("ris", 6),
    "asreview/pubmed_endnote.txt": ("ris", 6),
    "asreview/pubmed_zotero.ris": ("ris", 6),
    "asreview/ris_issue_1099.txt": ("ris", 7),
    "asreview/ris_issue_992.txt": ("ris", 19),
    "asreview/ris_many_authors.ris": ("ris", 1),
    "asreview/scopus.ris": ("ris", 6),
    "asreview/web_of_science.txt": ("ris", 10),  # WoS's RIS export, not its tagged format
    "asysd/ris_export.txt": ("ris", 69),
    "asysd/scopus.ris": ("ris", 10),
    "asysd/test_export.ris": ("ris", 3),
    "asysd/wos_test.ris": ("ris", 50),
    "colrev/abi_inform_proquest_ris.ris": ("ris", 2),
    "colrev/ieee_ris.ris": ("ris", 2),
    "colrev/jstor_ris.ris": ("ris", 4),
    "colrev/psycinfo_ris.ris": ("ris", 1),
    "colrev/ris_data.ris": ("ris", 2),
    "colrev/trid_ris.ris": ("ris", 3),
    "revtools/avian_ecology_bibliography.ris": ("ris", 20),
    "revtools/restoration_scopus.ris": ("ris", 286),
    "rispy/example_basic.ris": ("ris", 1),
    "rispy/example_bom.ris": ("ris", 1),
    "rispy/example_custom_list_tags.ris": ("ris", 1),
    "rispy/example_empty_tag.ris": ("ris", 1),
    "rispy/example_extraneous_data.ris": ("ris", 2),
    "rispy/example_full.ris": ("ris", 2),
    "rispy/example_full_without_whitespace.ris": ("ris", 2),
    "rispy/example_full_write.ris": ("ris", 2),
    "rispy/example_multi_unknown_tags.ris": ("ris", 1),
    "rispy/example_multiline.ris": ("ris", 3),
    "rispy/example_single_unknown_tag.ris": ("ris", 1),
    "rispy/example_starting_newlines.ris": ("ris", 1),
    "rispy/example_urls.ris": ("ris", 4),
    "rispy/example_utf_chars.ris": ("ris", 1),
    "synthesisr/ASP_ris_example.ris": ("ris", 4),
    "synthesisr/Ovid_ris_example.ris": ("ris", 4),
    "synthesisr/Scopus_ris_example.ris": ("ris", 3),
    "synthesisr/citesource_issue_24.ris": ("ris", 17),
    "synthesisr/eviatlas.txt": ("ris", 1),
    "synthesisr/extdata_scopus.ris": ("ris", 92),
    "colrev/eric_nbib.nbib": ("pubmed", 1),
    "colrev/nbib_data.nbib": ("pubmed", 1),
    "revtools/restoration_pubmed.nbib": ("pubmed", 104),
    "synthesisr/PubMed_example.txt": ("pubmed", 3),
    "synthesisr/res_synth_methods.txt": ("pubmed", 2),
    "revtools/restoration_WoS.ciw": ("wos", 247),
    "rispy/example_wos.ris": ("wos", 2),  # named .ris, but WoS tagged text (FN/VR header)
    "synthesisr/WoS_ciw_example.ciw": ("wos", 5),
    "synthesisr/WoS_txt_example.txt": ("wos", 4),
    "synthesisr/extdata_zoorec.txt": ("wos", 134),  # Zoological Record, in the WoS tagged format
    "colrev/ais_enl.txt": ("refer", 6),
    "colrev/enl_data.enl": ("refer", 3),
    "endnote_xml/Respiratory_endnote.xml.gz": ("endnote_xml", 1988),
}
# Files in bibliographic/ that are someone else's formats (CSV/TSV/BibTeX tests cover them).
NOT_TAGGED = {"asysd/test_export.txt", "synthesisr/litsearchr.txt"}

COUNTERS: dict[str, Callable[[str], int]] = {
    "ris": lambda text: len(re.findall(r"^TY  -", text, re.M)),
    "pubmed": lambda text: len(re.findall(r"^PMID- ", text, re.M)) or len(re.findall(r"^OWN - ", text, re.M)),
    "wos": lambda text: len(re.findall(r"^ER\s*$", text, re.M)),
    "refer": lambda text: len(re.findall(r"^%T ", text, re.M)),
    "endnote_xml": lambda text: text.count("<record>"),
}


def _bytes(shared_data: Path, relative: str) -> bytes:
    path = shared_data / BIB / relative
    if not path.is_file():
        pytest.skip(f"{path} is not in the shared data")
    data = path.read_bytes()
    return gzip.decompress(data) if relative.endswith(".gz") else data


def _text(data: bytes) -> str:
    # Line numbers count a lone CR as a line break, as decode() does (asysd/wos_test.ris ends some lines so).
    return data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def _parse(shared_data: Path, relative: str, **kwargs: str) -> list[ParsedRecord]:
    name, records = parse_file(
        _bytes(shared_data, relative), filename=Path(relative.removesuffix(".gz")).name, **kwargs
    )
    if "format" not in kwargs:
        assert name == TAGGED_FILES[relative][0]
    return records


# ------------------------------------------------------------------------------ every real file, every record


@pytest.mark.parametrize("relative", sorted(TAGGED_FILES))
def test_real_export_is_detected_and_every_record_imported(shared_data, relative):
    expected_format, expected_count = TAGGED_FILES[relative]
    data = _bytes(shared_data, relative)
    name, records = parse_file(data, filename=Path(relative.removesuffix(".gz")).name)
    assert name == expected_format
    assert len(records) == expected_count == COUNTERS[expected_format](_text(data))
    assert all(record.raw for record in records)
    lines = [record.line or 0 for record in records]
    assert all(line >= 1 for line in lines)
    assert lines == sorted(lines)


def test_every_tagged_file_in_the_shared_data_is_covered(shared_data):
    """A new export dropped into the shared data must get a row in TAGGED_FILES (or be someone else's)."""
    root = shared_data / BIB
    tagged_suffixes = (".ris", ".txt", ".nbib", ".ciw", ".enl", ".xml", ".xml.gz")
    found = {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and path.name.endswith(tagged_suffixes)
    }
    assert found - set(TAGGED_FILES) - NOT_TAGGED == set()


@pytest.mark.parametrize("relative", sorted(name for name, (fmt, _) in TAGGED_FILES.items() if fmt == "ris"))
def test_ris_records_start_at_their_ty_line_and_keep_every_tag(shared_data, relative):
    text = _text(_bytes(shared_data, relative))
    lines = text.split("\n")
    records = _parse(shared_data, relative)
    for record in records:
        assert record.line is not None and lines[record.line - 1].startswith("TY  -")
    # Lossless: every tag line (but ER) is a value in some record's raw, and so is every Ovid "Link to" line.
    tag_lines = len(re.findall(r"^(?:[A-Z][A-Z0-9] {1,3}|PMID {1,2})-(?: |$)", text, re.M))
    end_lines = len(re.findall(r"^ER  -", text, re.M))
    link_lines = len(re.findall(r"^Link to ", text, re.M))
    assert sum(len(values) for record in records for values in record.raw.values()) == (
        tag_lines - end_lines + link_lines
    )


# ------------------------------------------------------------------------------------- field values: RIS


def test_ris_embase(shared_data):
    records = _parse(shared_data, "asreview/embase.ris")
    first = records[0]
    assert first.title == "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound"
    assert first.authors == ["Liu R.", "Adler D.G."]  # A1 authors
    assert first.year == 2014
    assert first.journal == "Endoscopic Ultrasound"
    assert (first.volume, first.issue, first.pages) == ("3", "3", "152-160")
    assert first.doi == "10.4103/2303-9027.138783"
    assert first.abstract.startswith("Gastrointestinal tract duplication cysts are rare congenital")
    assert first.language == "English"
    assert first.publication_type == "Article"  # M3, more telling than TY JOUR
    assert first.keywords[:2] == ["article", "bronchogenic duplication cyst"]
    assert first.raw["SN"] == ["2226-7190", "2226-7190"]  # a repeated tag kept twice
    second = records[1]
    assert second.pmid == "15368318"  # Embase's C5, for a record that is also in MEDLINE
    assert second.authors[0] == "Eloubeidi M.A." and second.authors[-1] == "Eltoum I.A."
    assert second.doi == "10.1002/cncr.20369"


def test_ris_ovid_numbered_records_and_trailing_lines(shared_data):
    records = _parse(shared_data, "asreview/ovid_psycinfo.ris")
    first = records[0]
    assert first.line == 2  # after the "1." line
    assert first.title.startswith("The influence of self-criticism on depression symptoms")
    assert first.authors[0] == "Trindade, Ines A" and first.authors[-1] == "Pinto-Gouveia, Jose"
    assert first.year == 2019
    assert first.doi == "10.1002/cpp.2398"  # from "DO  - http://dx.doi.org/10.1002/cpp.2398"
    assert first.journal == "Clinical Psychology & Psychotherapy"
    assert first.pages == ""  # SP "No" + EP "Specified"
    # Ovid writes NL and a "Link to …" line after the ER: they stay with the record they follow.
    assert first.raw["NL"] == ["Clin Psychol Psychother"]
    assert first.raw["Link to"][0].startswith("the Ovid Full Text or citation: https://")


def test_ris_pubmed_via_endnote(shared_data):
    first = _parse(shared_data, "asreview/pubmed_endnote.txt")[0]
    assert first.pmid == "21553931"  # AN, with DP NLM
    assert first.title.startswith("Boswellia serrata: an overall assessment")
    assert first.authors == ["Abdel-Tawab, M.", "Werz, O.", "Schubert-Zsilavecz, M."]
    assert (first.year, first.pages, first.journal) == (2011, "349-69", "Clin Pharmacokinet")
    assert first.doi == "10.2165/11586800-000000000-00000"
    # Keywords one per continuation line; notes keep their lines.
    assert first.keywords[0] == "Animals" and len(first.keywords) == 10
    assert first.raw["N1"][0].split("\n")[:2] == ["1179-1926", "Abdel-Tawab, Mona"]


def test_ris_scopus(shared_data):
    records = _parse(shared_data, "asreview/scopus.ris")
    second = records[1]
    assert second.title == "Hypothesis: Mechanism of irritable bowel syndrome in inflammatory bowel disease"
    assert second.authors == ["Uno, Y."]
    assert (second.year, second.journal, second.volume) == (2019, "Medical Hypotheses", "132")
    assert second.doi == "10.1016/j.mehy.2019.109324"
    assert second.pmid == "31421429"  # Scopus's C2
    assert second.publication_type == "Article"
    assert second.url.startswith("https://www.scopus.com/inward/record.uri?eid=2-s2.0-85070226738")


def test_ris_endnote_authors_on_one_line_are_split(shared_data):
    records = _parse(shared_data, "asysd/ris_export.txt")
    golde = next(r for r in records if r.title.startswith("Alzheimer's disease: The right drug"))
    assert golde.authors == ["Golde T. E.", "DeKosky S. T.", "Galasko D."]
    assert any("split into" in warning for warning in golde.warnings)
    first = records[0]
    assert first.authors[1] == "Lamb B. T." and first.authors[-1] == "Holtz G."
    assert first.doi == "10.1093/hmg/6.9.1535"  # DO wins over the unrelated Wiley link in UR
    assert first.year == 1997


def test_ris_continuation_lines(shared_data):
    rayyan = _parse(shared_data, "asreview/ris_issue_992.txt")[0]
    assert rayyan.keywords[:3] == ["Health Facility Administration", "Joint Commission", "Standards"]
    assert rayyan.keywords[-1] == "Patient Education"
    scopus_citavi = _parse(shared_data, "asreview/ris_issue_1099.txt")[0]
    assert scopus_citavi.raw["U3"] == ["Cited By :9\n\nExport Date: 12 May 2022\n\nArticle"]  # blank lines kept
    dimensions = _parse(shared_data, "synthesisr/citesource_issue_24.ris")[0]
    assert dimensions.url == "https://app.dimensions.ai/details/publication/pub.1143865007"
    assert dimensions.authors[1] == "Fernández-Juricic, Esteban"
    multiline = _parse(shared_data, "rispy/example_multiline.ris")
    assert multiline[2].raw["N2"] == ["first line,\nER then second line and at the end\nthe last line"]
    assert multiline[2].raw["N1"] == ["first line\n* second line\n* last line"]


def test_ris_odd_layouts(shared_data):
    (psycinfo,) = _parse(shared_data, "colrev/psycinfo_ris.ris")
    assert psycinfo.pmid == "33355555"  # "PMID  - 33355555", after a Provider/Database header
    assert psycinfo.doi == "10.1011/hea0004444"
    first, second = _parse(shared_data, "colrev/ris_data.ris")  # the first record has no ER
    assert first.keywords == ["keyword2", "keyword2", "keyword3"]  # "KW - keyword2" + continuation lines
    assert any("no 'ER  - ' end tag" in warning for warning in first.warnings)
    assert second.title == "Title of a journal paper" and not second.warnings
    (faulty,) = _parse(shared_data, "asreview/faulty_year.ris")
    assert faulty.year is None and "unreadable year '10 15'" in faulty.warnings


# ----------------------------------------------------------------------------------- field values: others


def test_pubmed_medline(shared_data):
    first = _parse(shared_data, "synthesisr/PubMed_example.txt")[0]
    assert first.pmid == "28441597"
    assert first.title == (
        "Differences in nitrate and phosphorus export between wooded and grassed riparian zones from farmland "
        "to receiving waterways under varying rainfall conditions."
    )  # a title wrapped over two lines
    assert first.authors[0] == "Neilen, Amanda D" and first.authors[-1] == "Burford, Michele A"  # FAU, not AU
    assert first.year == 2017
    assert first.doi == "10.1016/j.scitotenv.2017.04.075"
    assert first.journal == "The Science of the total environment"
    assert (first.volume, first.pages) == ("598", "188-197")
    assert first.abstract.startswith(
        "Agricultural activities in catchments can cause excessive nutrient loads in waterways."
    )
    assert "\n" not in first.abstract
    assert first.keywords[0] == "Buffer strips"
    assert first.raw["PHST"][0] == "2016/11/28 00:00 [received]"
    last = _parse(shared_data, "revtools/restoration_pubmed.nbib")[-1]
    assert (last.pmid, last.doi) == ("28098621", "10.1097/icb.0000000000000530")  # DOI lower-cased
    assert last.publication_type == "Case Reports; Journal Article"


def test_pubmed_eric_nbib(shared_data):
    (eric,) = _parse(shared_data, "colrev/eric_nbib.nbib")
    assert (eric.title, eric.authors, eric.year) == ("Paper title", ["Smith, Tom", "Hunter, Shawn"], 2000)
    assert eric.doi == "10.1000/123456789"
    assert eric.url == "http://eric.ed.gov/?id=EJ1131633"
    assert eric.raw["ISSN"] == ["ISSN-1234-4567"]  # "ISSN - " with ERIC's extra space
    assert eric.pmid == ""


def test_wos_tagged(shared_data):
    first = _parse(shared_data, "synthesisr/WoS_ciw_example.ciw")[0]
    assert first.title == (
        "Soil fauna diversity at different stages of reed restoration in a lakeshore wetland at Lake Taihu, China"
    )
    assert first.authors[0] == "Li, Wei" and first.authors[-1] == "Pan, Xu"
    assert (first.year, first.volume, first.issue) == (2020, "6", "1")
    assert first.doi == "10.1080/20964129.2020.1722034"
    assert first.journal == "ECOSYSTEM HEALTH AND SUSTAINABILITY"
    assert first.abstract.startswith("Introduction: Wetland soil fauna support material cycling")
    biochemistry = _parse(shared_data, "rispy/example_wos.ris")[0]
    assert biochemistry.authors[0] == "Parkes-Loach, PS"  # AF (here the same as AU)
    assert biochemistry.pmid == "15170338"
    assert biochemistry.pages == "7003-7016"  # BP-EP
    assert biochemistry.keywords[0] == "CHEMICALLY SYNTHESIZED POLYPEPTIDES"  # DE/ID split on ";" across lines
    assert biochemistry.publication_type == "Article"
    assert biochemistry.raw["UT"] == ["WOS:000221807500019"]
    restoration = _parse(shared_data, "revtools/restoration_WoS.ciw")[0]
    assert restoration.authors[0] == "Alvarez-Manzaneda, I."  # AF preferred over AU ("Alvarez-Manzaneda, I")
    assert restoration.keywords[:2] == ["Magnetic particles", "Toxicity"]
    zoorec = _parse(shared_data, "synthesisr/extdata_zoorec.txt")[0]
    assert zoorec.authors[0] == "Stillman, Andrew N."  # the e-mail in brackets is left out


def test_refer(shared_data):
    first = _parse(shared_data, "colrev/enl_data.enl")[0]
    assert first.title.startswith("How Trust Leads to Commitment on Microsourcing Platforms")
    assert first.authors == ["Guo, Wenbo", "Straub, Detmar W.", "Zhang, Pengzhu", "Cai, Zhao"]
    assert (first.year, first.volume, first.issue, first.pages) == (2021, "45", "3", "1309-1348")
    assert first.journal == "Management Information Systems Quarterly"
    assert first.url == "https://aisel.aisnet.org/misq/vol45/iss3/13"
    assert first.publication_type == "Journal Article"
    assert first.abstract.startswith("IS research has extensively examined the role of trust")
    assert first.line == 1


def test_endnote_xml(shared_data):
    records = _parse(shared_data, "endnote_xml/Respiratory_endnote.xml.gz")
    first = records[0]
    assert (
        first.title
        == "Perioperative nutritional support in patients undergoing hepatectomy for hepatocellular carcinoma"
    )
    assert first.authors == ["Ziegler, T. R."]
    assert (first.year, first.volume, first.issue, first.pages) == (1996, "20", "1112", "91-92")
    assert first.journal == "Jpen: Journal of Parenteral & Enteral Nutrition"
    assert first.publication_type == "Journal Article"
    assert first.raw["caption"] == ["Duplicate"]  # the benchmark's duplicate flag is kept
    assert first.raw["ref-type"] == ["17"]
    phase2 = next(r for r in records if r.title.startswith("Randomized multicentric phase II study of carboplatin"))
    assert phase2.authors[0] == "Thomas, P." and phase2.authors[-1] == "Groupe francais de, pneumo-cancerologie"
    assert {r.registry_id for r in records} >= {"NCT01147484", "ISRCTN74625030"}  # ids named in titles


ENDNOTE_XML = """<?xml version="1.0" encoding="UTF-8" ?>
<xml><records><record><database name="My.enl">My.enl</database><ref-type name="Journal Article">17</ref-type>
<contributors><authors><author><style face="normal" font="default" size="100%">Smith, Anna</style></author>
<author><style face="normal" font="default" size="100%">Jones, B.</style></author></authors></contributors>
<titles><title><style face="normal" font="default" size="100%">Ketamine for </style><style face="italic"
font="default" size="100%">cancer</style><style face="normal" font="default" size="100%"> pain</style></title>
<secondary-title><style face="normal">Pain Journal</style></secondary-title></titles>
<periodical><full-title><style face="normal">The Pain Journal</style></full-title></periodical>
<pages>10-19</pages><volume>3</volume><number>2</number>
<keywords><keyword>Ketamine</keyword><keyword>Analgesia</keyword></keywords>
<dates><year><style face="normal">2020</style></year></dates><accession-num>31234567</accession-num>
<electronic-resource-num><style face="normal">https://doi.org/10.1000/ABC.123</style></electronic-resource-num>
<abstract><style face="normal">Background: ketamine.</style></abstract>
<notes>Trial registration: NCT01234567</notes><remote-database-name>PubMed</remote-database-name>
<urls><related-urls><url>https://example.org/a</url></related-urls></urls><language>eng</language>
</record></records></xml>
"""


def test_endnote_xml_fields_and_style_runs():
    name, (record,) = parse_file(ENDNOTE_XML.encode(), filename="export.xml")
    assert name == "endnote_xml"
    assert record.title == "Ketamine for cancer pain"  # three <style> runs
    assert record.authors == ["Smith, Anna", "Jones, B."]
    assert record.journal == "The Pain Journal"
    assert (record.year, record.volume, record.issue, record.pages) == (2020, "3", "2", "10-19")
    assert record.doi == "10.1000/abc.123"
    assert record.pmid == "31234567"
    assert record.registry_id == "NCT01234567"
    assert record.keywords == ["Ketamine", "Analgesia"]
    assert record.url == "https://example.org/a"
    assert record.abstract == "Background: ketamine."
    assert record.line == 2
    assert record.raw["ref-type@name"] == ["Journal Article"]


def test_ris_cochrane_central_registry_record():
    """CENTRAL exports trial-register records with the registry id in the accession number and URL."""
    text = (
        "TY  - JOUR\nID  - CN-02091234\nAU  - Anonymous\nTI  - Ketamine as an adjuvant for cancer pain\n"
        "JO  - ClinicalTrials.gov\nPY  - 2019\nKW  - Cancer Pain\nM3  - Trial registry record\n"
        "AN  - NCT03886974\nUR  - https://clinicaltrials.gov/show/NCT03886974\nER  - \n\n"
        "TY  - JOUR\nTI  - Ketamine trial\nUR  - https://trialsearch.who.int/Trial2.aspx?TrialID=ISRCTN12345678\n"
        "AN  - PUBMED 31234567\nER  - \n"
    )
    registry, journal = parse_file(text.encode(), filename="central.ris")[1]
    assert registry.registry_id == "NCT03886974"
    assert registry.publication_type == "Trial registry record"
    assert registry.journal == "ClinicalTrials.gov"
    assert journal.registry_id == "ISRCTN12345678"
    assert journal.pmid == "31234567"


def test_pubmed_registry_number():
    text = (
        "PMID- 31234567\nTI  - A trial.\nFAU - Doe, Jane\nDP  - 2019 Mar\nSI  - ClinicalTrials.gov/NCT01234567\n"
        "AID - 10.1000/X [doi]\nSO  - J Trials. 2019.\n"
    )
    name, (record,) = parse_file(text.encode(), filename="pubmed.nbib")
    assert name == "pubmed"
    assert (record.registry_id, record.doi, record.year, record.authors) == (
        "NCT01234567",
        "10.1000/x",
        2019,
        ["Doe, Jane"],
    )


# ------------------------------------------------------------------------------------------- file errors


def _error(text: str, **kwargs: str) -> ImportFormatError:
    with pytest.raises(ImportFormatError) as caught:
        parse_file(text.encode(), **kwargs)
    assert caught.value.message
    return caught.value


def test_truncated_ris_is_refused_with_the_record_line(shared_data):
    text = _text(_bytes(shared_data, "asreview/scopus.ris"))
    cut = text[: text.index("AB  - Functional bowel symptoms") + 40]  # in the middle of record 2's abstract
    error = _error(cut, filename="scopus.ris")
    assert "ends inside the record that starts on line 226" in error.message
    assert "truncated" in error.message
    assert error.line == 226


def test_ris_missing_final_er_is_tolerated_when_the_record_is_complete(shared_data):
    text = _text(_bytes(shared_data, "rispy/example_basic.ris")).replace("ER  - \n", "")
    (record,) = parse_file(text.encode(), filename="x.ris")[1]
    assert record.title == "A Mathematical Theory of Communication"
    assert "no 'ER  - ' end tag at the end of the file: check that the export is complete" in record.warnings


def test_ris_text_between_records_is_reported_with_its_line(shared_data):
    text = _text(_bytes(shared_data, "rispy/example_urls.ris"))
    lines = text.split("\n")
    lines.insert(11, "This is not part of any record")  # right after the first record's ER (line 10) and blank
    error = _error("\n".join(lines), filename="x.ris")
    assert error.line == 12
    assert "this line is not RIS (after the record that ends on line 10" in error.message
    assert "'This is not part of any record'" in error.message
    error = _error("TY  - JOUR\nTI  - x\nER  - \n\nAU  - Stray, Tag\n", filename="x.ris")
    assert (error.line, error.message.split(" (")[0]) == (5, "tag 'AU' is outside any record")


def test_other_formats_report_broken_structure():
    wos = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A\nPY 2020\nPT J\nTI B\nER\nEF\n"
    error = _error(wos, filename="x.ciw")
    assert (error.line, error.message) == (
        3,
        "the record that starts on line 3 has no ER end tag (PT on line 6 comes first)",
    )
    medline = "PMID- 1\nTI  - A title\nthis line lost its indentation\n"
    error = _error(medline, filename="x.nbib")
    assert error.line == 3 and "neither a MEDLINE tag" in error.message
    refer = "Some notes\n%0 Journal Article\n%T Title\n%A Doe, J.\n"
    error = _error(refer, format="refer")
    assert error.line == 1 and "before the first record" in error.message


def test_malformed_endnote_xml_reports_the_parser_line():
    broken = ENDNOTE_XML.replace("</secondary-title>", "</secondary-titel>")
    error = _error(broken, filename="x.xml")
    assert error.line == 7
    assert error.message.startswith("the XML is malformed: mismatched tag")
    error = _error('<?xml version="1.0"?>\n<library><records/></library>\n', format="endnote_xml")
    assert "not an EndNote export: its root element is <library>" in error.message


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><records><record><titles><title>&lol9;</title></titles></record></records></xml>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><records><record><titles><title>&xxe;</title></titles></record></records></xml>
"""


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize("how", [{"filename": "export.xml"}, {"format": "endnote_xml"}], ids=["detected", "chosen"])
def test_xml_entities_are_refused(document, how):
    error = _error(document, **how)
    assert "XML entities are not allowed" in error.message
    assert "passwd" not in error.message and "lollol" not in error.message


def test_not_a_bibliographic_export_is_refused():
    error = _error("Dear colleague,\nplease find attached the search results.\n", filename="results.txt")
    assert "does not recognise this file's format" in error.message
    error = _error("Dear colleague,\nplease find attached the search results.\n", format="ris")
    assert "this line is not RIS (before the first record" in error.message and error.line == 1


# -------------------------------------------------------------------------------------- robustness (fuzz)

FUZZ_SOURCES = {
    "ris": [
        "rispy/example_full.ris",
        "asreview/ris_issue_992.txt",
        "asysd/ris_export.txt",
        "asreview/ovid_psycinfo.ris",
    ],
    "pubmed": ["synthesisr/res_synth_methods.txt", "colrev/eric_nbib.nbib"],
    "wos": ["rispy/example_wos.ris", "synthesisr/WoS_txt_example.txt"],
    "refer": ["colrev/ais_enl.txt"],
    "endnote_xml": ["endnote_xml/Respiratory_endnote.xml.gz"],
}
FRAGMENT = 3000  # characters of each source: small examples, quick runs


@pytest.fixture(scope="module")
def fragments(shared_data) -> list[tuple[str, str]]:
    found = []
    for fmt, files in FUZZ_SOURCES.items():
        for relative in files:
            path = shared_data / BIB / relative
            if path.is_file():
                found.append((fmt, _text(_bytes(shared_data, relative))[:FRAGMENT]))
    if not found:
        pytest.skip("no tagged exports in the shared data to fuzz")
    return found


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the run) when one example takes longer than `seconds`."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise AssertionError(f"parsing took longer than {seconds}s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _must_parse_or_refuse(data: bytes, **kwargs: str) -> None:
    with _time_limit(10):
        try:
            _name, records = parse_file(data, **kwargs)
        except ImportFormatError as error:
            assert error.message.strip()
            return
    assert records and all(isinstance(record, ParsedRecord) for record in records)


GARBAGE_LINES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["ER  - ", "TY  - JOUR", "ER", "PT J", "EF", "%T x", "PMID- 1", "   continued", "</record>", "<"]),
)


@st.composite
def _mangled(draw: st.DrawFn, fragments: list[tuple[str, str]]) -> tuple[str, bytes]:
    fmt, text = draw(st.sampled_from(fragments))
    lines = text.split("\n")
    for operation in draw(st.lists(st.sampled_from(["cut", "shuffle", "insert", "delete", "repeat"]), max_size=3)):
        if operation == "cut":
            joined = "\n".join(lines)
            lines = joined[: draw(st.integers(0, len(joined)))].split("\n")
        elif operation == "shuffle" and len(lines) > 1:
            start = draw(st.integers(0, len(lines) - 1))
            window = lines[start : start + 12]
            lines[start : start + 12] = draw(st.permutations(window))
        elif operation == "insert":
            lines.insert(draw(st.integers(0, len(lines))), draw(GARBAGE_LINES))
        elif operation == "delete" and lines:
            del lines[draw(st.integers(0, len(lines) - 1))]
        elif operation == "repeat" and lines:
            index = draw(st.integers(0, len(lines) - 1))
            lines.insert(index, lines[index])
    data = "\n".join(lines).encode()
    if draw(st.booleans()):
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]
    return fmt, data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_mangled_real_exports_parse_or_fail_cleanly(fragments, data):
    fmt, mangled = data.draw(_mangled(fragments))
    _must_parse_or_refuse(mangled, format=fmt)
    _must_parse_or_refuse(mangled, format=data.draw(st.sampled_from(MINE)))  # another parser's input, too
    _must_parse_or_refuse(mangled, filename="upload.txt")


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=300), fmt=st.sampled_from(MINE), prefix=st.sampled_from(["", "TY  - JOUR\n", "PMID- 1\n"]))
def test_random_text_parses_or_fails_cleanly(text, fmt, prefix):
    assert fmt in FORMATS
    _must_parse_or_refuse((prefix + text).encode(), format=fmt)
    _must_parse_or_refuse((prefix + text).encode(), filename="upload.ris")
