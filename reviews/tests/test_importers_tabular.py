"""BibTeX, CSV/TSV and trial-register imports (bibtex, tabular, ctgov_json, ictrp_xml).

Real exports come from the shared data (`shared_data` skips, saying why, where it is absent). There are no
real ClinicalTrials.gov or ICTRP downloads there, so reviews/tests/data/ holds small fixtures in the registers'
real layouts with invented trials (ketamine for cancer pain; the IDs are made up): ctgov.csv (current site
CSV), ctgov.json (API v2 page), ictrp.csv and ictrp.xml (ICTRP portal exports).

Record counts are established independently of the importers: the csv module's row count, or a regex count
of `@type{` entry starts.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviews.importers import bibtex, parse_file
from reviews.importers.base import ImportFormatError, ParsedRecord

DATA = Path(__file__).parent / "data"
BIB = "bibliographic"

# (file, detected format, delimiter for CSV/TSV); BibTeX is counted by entry starts.
BIBTEX_FILES = [
    "asysd/test_export.bib",
    "bibtexparser/bibtex.bib",
    "bibtexparser/gbk_test.bib",
    "colrev/abi_inform_proquest_bib.bib",
    "colrev/acm_bib.bib",
    "colrev/ebsco_bib.bib",
    "colrev/scopus_bib.bib",
    "colrev/web_of_science_bib.bib",
    "synthesisr/Scopus_bib_example.bib",
    "synthesisr/litsearchr.txt",  # BibTeX saved as .txt
]
TABULAR_FILES = [
    ("asreview/duplicate_records.csv", ";"),
    ("asreview/embase.csv", ","),
    ("asreview/generic_labels.csv", ","),
    ("asreview/generic_partial_labels.csv", ","),
    ("asreview/generic_semicolon.csv", ";"),
    ("asreview/generic_tab.tsv", "\t"),
    ("asreview/missing_values.csv", ","),
    ("asysd/test_export.csv", ","),
    ("asysd/test_export.txt", "\t"),  # EndNote tab-delimited
    ("colrev/csv_data.csv", ","),
    ("colrev/ieee_csv.csv", ","),
    ("colrev/pubmed-chatbot.csv", ","),
    ("colrev/pubmed_csv.csv", ","),
    ("colrev/springer_csv.csv", ","),
    ("synthesisr/eviatlas.csv", ","),
    ("synthesisr/eviatlas.tsv", "\t"),
]
ENTRY_START = re.compile(r"^[ \t]*@[ \t]*(?!comment\b|string\b|preamble\b)[A-Za-z]\w*[ \t]*[{(]", re.I | re.M)


def count_rows(text: str, delimiter: str) -> int:
    rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if any(cell.strip() for cell in row)]
    return len(rows) - 1  # the header


def entry_lines(text: str) -> list[int]:
    return [text.count("\n", 0, match.start()) + 1 for match in ENTRY_START.finditer(text)]


# --- every real file --------------------------------------------------------------------------------------


@pytest.mark.parametrize("relative", BIBTEX_FILES)
def test_every_bibtex_file_imports_every_entry(shared_data, relative):
    data = (shared_data / BIB / relative).read_bytes()
    fmt, records = parse_file(data, filename=Path(relative).name)
    assert fmt == "bibtex"
    expected = entry_lines(data.decode("latin-1"))  # entry starts are ASCII whatever the encoding
    assert [record.line for record in records] == expected
    assert all(record.raw["ENTRYTYPE"] and record.raw["ID"] for record in records)


@pytest.mark.parametrize(("relative", "delimiter"), TABULAR_FILES)
def test_every_csv_file_imports_every_row(shared_data, relative, delimiter):
    data = (shared_data / BIB / relative).read_bytes()
    fmt, records = parse_file(data, filename=Path(relative).name)
    assert fmt == "tabular"
    text = data.decode("utf-8-sig")
    assert len(records) == count_rows(text, delimiter)
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert all(len(record.raw) == len(set(header)) for record in records)  # the whole row, every column


def test_latin1_csv_imports_every_row(shared_data):
    """ASySD's labelled diabetes set: Latin-1, 1,845 rows, quoted abstracts with the © sign."""
    data = gzip.decompress((shared_data / "dedup_benchmark/asysd_diabetes/labelled_test_set.csv.gz").read_bytes())
    fmt, records = parse_file(data, filename="labelled_test_set.csv")
    assert fmt == "tabular"
    assert len(records) == count_rows(data.decode("latin-1"), ",") == 1845
    first = records[0]
    assert first.title == "Intestinal lipoprotein overproduction in insulin-resistant states"
    assert (first.year, first.doi, first.journal) == (2008, "10.1097/mol.0b013e3282ffaf82", "Curr Opin Lipidol")
    # The second row is the same paper from another database, its abstract ending in a Latin-1 "©".
    assert records[1].title == first.title and records[1].line == 4  # the first abstract spans lines 2-3
    assert records[1].abstract.endswith("© 2008 Lippincott Williams & Wilkins Inc.")


def test_bib_dedupe_benchmark_csv_imports(shared_data):
    data = (shared_data / "dedup_benchmark/special_cases/records_pre_merged.csv").read_bytes()
    fmt, records = parse_file(data, filename="records_pre_merged.csv")
    assert (fmt, len(records)) == ("tabular", count_rows(data.decode("utf-8"), ","))
    assert records[0].authors == ["Deng, Chaoqun", "Ravichandran, Thiagarajan"]
    assert records[0].publication_type == "inproceedings"


def test_a_csv_without_titles_is_refused_naming_its_columns(shared_data):
    data = (shared_data / "screening/synergy_ids_only/Donners_2021_ids.csv").read_bytes()
    with pytest.raises(ImportFormatError, match="does not recognise this file's format"):
        parse_file(data, filename="Donners_2021_ids.csv")
    with pytest.raises(ImportFormatError, match="no title column") as caught:
        parse_file(data, filename="Donners_2021_ids.csv", format="tabular")
    assert "'doi', 'openalex_id', 'label_included', 'method', 'pmid'" in caught.value.message


# --- field values of real records: BibTeX -----------------------------------------------------------------


def test_bibtex_fields(shared_data):
    _, (record,) = parse_file((shared_data / BIB / "synthesisr/litsearchr.txt").read_bytes(), filename="litsearchr.txt")
    assert record.title == (
        "An automated approach to identifying search terms for systematic reviews using keyword co-occurrence networks"
    )
    assert record.authors[0] == "Grames, Eliza M" and record.authors[-1] == "Elphick, Chris S"
    assert len(record.authors) == 4
    assert (record.year, record.journal, record.volume, record.issue) == (
        2019,
        "Methods in Ecology and Evolution",
        "10",
        "10",
    )
    assert record.pages == "1645-1654"  # 1645--1654
    assert record.publication_type == "article"
    assert record.raw["publisher"] == ["Wiley Online Library"] and record.raw["ID"] == ["grames2019automated"]


def test_scopus_bibtex(shared_data):
    data = (shared_data / BIB / "synthesisr/Scopus_bib_example.bib").read_bytes()
    _, records = parse_file(data, filename="Scopus_bib_example.bib")
    record = records[0]
    assert record.title == (
        "Soil fauna diversity at different stages of reed restoration in a lakeshore wetland at Lake Taihu, China"
    )
    assert len(record.authors) == 10
    assert (record.authors[0], record.authors[-1]) == ("Li, W.", "Pan, X.")
    assert (record.year, record.doi) == (2020, "10.1080/20964129.2020.1722034")
    assert record.journal == "Ecosystem Health and Sustainability" and (record.volume, record.issue) == ("6", "1")
    assert record.abstract.startswith("Introduction: Wetland soil fauna support material cycling")
    # Scopus writes funding_details twice in this entry: kept (both values in raw), with a warning.
    assert len(record.raw["funding_details"]) == 2
    assert any("funding_details" in warning for warning in record.warnings)
    assert records[2].keywords[:3] == ["Image enhancement", "MATLAB", "Restoration"]


def test_bibtex_markup_is_decoded_where_people_read_it(shared_data):
    _, records = parse_file((shared_data / BIB / "colrev/web_of_science_bib.bib").read_bytes(), filename="wos.bib")
    proceedings, article = records
    assert proceedings.doi == "10.1007/999-9-999-99999-9_3"  # DOI = {10.1007/999-9-999-99999-9\_3}
    assert proceedings.journal == "A BOOKTITLE" and proceedings.publication_type == "inproceedings"
    assert proceedings.authors == ["Writerone, Julia", "Writertwo, Paul"]
    assert article.title == "A dummy title's"  # Title = {A dummy title&apos;s}
    assert (article.year, article.volume, article.issue, article.pages) == (2022, "22", "3", "111-188")
    text = (
        '@article{k,\n title={{COVID}-19 and {\\"u}ber 95% of \\& M\\"{u}ller},\n'
        ' author={M{\\"u}ller, J. and {Barnes and Noble}},\n url={https://x.org/a%2Fb}}\n'
    )
    (record,) = bibtex.parse(text)
    assert record.title == "COVID-19 and über 95% of & Müller"
    assert record.authors == ["Müller, J.", "Barnes and Noble"]
    assert record.url == "https://x.org/a%2Fb"


def test_bibtex_line_and_odd_values(shared_data):
    _, (record,) = parse_file((shared_data / BIB / "bibtexparser/bibtex.bib").read_bytes(), filename="bibtex.bib")
    assert (record.line, record.title, record.authors, record.year) == (5, "An amazing title", ["Jean César"], 2013)
    assert (record.pages, record.journal) == ("12-23", "Nice Journal")
    assert record.raw["month"] == ["jan"]
    _, records = parse_file((shared_data / BIB / "colrev/acm_bib.bib").read_bytes(), filename="acm.bib")
    assert records[1].year is None and "unreadable year '888'" in records[1].warnings
    assert records[1].journal == "Proceedings of the 9th Conference on Ghostwriting"
    assert records[0].keywords == ["creative writing", "funny writing", "lazy writing"]


def test_broken_bibtex_entry_is_read_line_by_line_with_a_warning(shared_data):
    """EBSCO's second entry has scraped keywords with stray braces: its other fields are intact."""
    _, records = parse_file((shared_data / BIB / "colrev/ebsco_bib.bib").read_bytes(), filename="ebsco.bib")
    good, broken = records
    assert good.authors == ["Smith, Tom", "Steward, Hugo"] and good.pages == "1-10" and not good.warnings
    assert (broken.line, broken.title, broken.authors) == (15, "When sharing fixes prices.", ["Tom Cruise"])
    assert broken.abstract == "While price-fixing" and broken.journal == "Journal of Technology"
    assert any("not valid BibTeX" in warning for warning in broken.warnings)


def test_bibtex_without_any_readable_field_is_refused():
    text = "@article{good, title={Fine}, year={2001}}\n\n@article{bad,\n{{{ no fields here\n"
    with pytest.raises(ImportFormatError, match="'bad' could not be read") as caught:
        parse_file(text.encode(), filename="x.bib")
    assert caught.value.line == 3


def test_duplicate_citation_keys_are_kept_with_a_warning():
    text = "@string{nj = {Nice Journal}}\n@article{a, title={One}, journal=nj}\n@article{a, title={Two}, journal=nj}\n"
    _, records = parse_file(text.encode(), filename="x.bib")
    assert [(r.title, r.journal, r.line) for r in records] == [("One", "Nice Journal", 2), ("Two", "Nice Journal", 3)]
    assert records[1].warnings == ["citation key 'a' is also used by the entry at line 2"]


def test_gbk_bibtex_parses_when_decoded_as_gbk(shared_data):
    text = (shared_data / BIB / "bibtexparser/gbk_test.bib").read_bytes().decode("gb18030")
    (record,) = bibtex.parse(text)
    assert (record.title, record.authors, record.journal, record.year) == ("Test Title", ["凯撒"], "测试期刊", 2013)
    assert record.raw["ID"] == ["凯撒2013"]


def test_gbk_bibtex_through_parse_file(shared_data):
    data = (shared_data / BIB / "bibtexparser/gbk_test.bib").read_bytes()
    _, (record,) = parse_file(data, filename="gbk_test.bib")
    assert record.authors == ["凯撒"] and record.journal == "测试期刊"


# --- field values of real records: CSV/TSV ----------------------------------------------------------------


def test_embase_csv(shared_data):
    _, records = parse_file((shared_data / BIB / "asreview/embase.csv").read_bytes(), filename="embase.csv")
    record = records[0]
    assert record.title == "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound"
    assert record.authors == ["Liu R.", "Adler D.G."]
    assert record.abstract.startswith("Gastrointestinal tract duplication cysts are rare congenital")
    # Source: "Endoscopic Ultrasound (2014) 3:3 (152-160). Date of Publication: 2014"
    assert (record.journal, record.year, record.volume, record.issue, record.pages) == (
        "Endoscopic Ultrasound", 2014, "3", "3", "152-160",
    )  # fmt: skip
    assert record.doi == "10.4103/2303-9027.138783"  # from the OpenURL link: id=doi:10.4103%2F2303-9027.138783
    assert records[2].journal == "International Journal of Surgery Case Reports" and records[2].volume == "54"
    assert records[2].issue == "" and records[2].pages == "83-86"


def test_pubmed_csv(shared_data):
    data = (shared_data / BIB / "colrev/pubmed-chatbot.csv").read_bytes()
    _, records = parse_file(data, filename="pubmed-chatbot.csv")
    record = records[0]
    assert record.title.startswith("Chatbot-Delivered Psychotherapy for Adults With Depressive and Anxiety Symptoms")
    assert (record.authors[0], record.authors[-1], len(record.authors)) == ("Lim SM", "Lau Y.", 4)
    assert (record.pmid, record.doi, record.year, record.journal) == (
        "35227408", "10.1016/j.beth.2021.09.007", 2022, "Behav Ther",
    )  # fmt: skip
    assert (record.volume, record.issue, record.pages) == ("53", "2", "334-347")  # from Citation
    assert records[1].pages == "e27850"


def test_ieee_springer_and_eviatlas_csv(shared_data):
    _, ieee = parse_file((shared_data / BIB / "colrev/ieee_csv.csv").read_bytes(), filename="ieee.csv")
    assert ieee[0].authors == ["Joseph Rottman", "Erran Carmel", "Mary Lacity"]
    assert (ieee[0].doi, ieee[0].journal) == ("10.1109/mc.2011.377", "Computer")
    assert ieee[0].abstract.startswith("IT and business process outsourcing providers are building")
    _, (springer,) = parse_file((shared_data / BIB / "colrev/springer_csv.csv").read_bytes(), filename="s.csv")
    assert (springer.title, springer.journal, springer.doi, springer.year) == (
        "Publication tilte", "Nature", "10.1007/11111", 2000,
    )  # fmt: skip
    for name in ("eviatlas.csv", "eviatlas.tsv"):
        _, (record,) = parse_file((shared_data / BIB / "synthesisr" / name).read_bytes(), filename=name)
        assert record.title == "EviAtlas: a tool for visualising evidence synthesis databases"
        assert len(record.authors) == 7
        assert (record.authors[0], record.authors[-1]) == ("Haddaway, Neal R.", "Westgate, Martin J.")
        assert (record.year, record.doi, record.journal) == (
            2019,
            "10.1186/s13750-019-0167-1",
            "Environmental Evidence",
        )


def test_endnote_tab_delimited_and_generic_csv(shared_data):
    _, records = parse_file((shared_data / BIB / "asysd/test_export.txt").read_bytes(), filename="test_export.txt")
    assert [(r.title, r.authors, r.year, r.journal, r.pages) for r in records] == [
        ("Title 1", ["Author 1"], 2020, "Journal 1", "1-10"),
        ("Title 2", ["Author 2"], 2021, "Journal 2", "20-30"),
        ("Title 3", ["Author 3"], 2022, "Journal 3", "40-50"),
    ]
    assert records[0].doi == ""  # "DOI 1" is a placeholder, not a DOI
    assert records[0].raw["url"] == [""] and records[0].raw["URL"] == [""]  # both columns kept
    _, generic = parse_file((shared_data / BIB / "asreview/generic_labels.csv").read_bytes(), filename="g.csv")
    assert generic[0].authors == ["Marx, Karl", "Lindgren, Astrid"]  # written as a Python list by pandas
    assert generic[0].title == "Title of reference" and generic[0].year == 2014
    _, missing = parse_file((shared_data / BIB / "asreview/missing_values.csv").read_bytes(), filename="m.csv")
    assert missing[1].title == "" and "no title" in missing[1].warnings and missing[1].line == 3


def test_covidence_rayyan_and_wos_tab_delimited_layouts():
    """Layouts without a real file in the shared data, written as those tools export them."""
    covidence = (
        '"Title","Authors","Abstract","Published Year","Published Month","Journal","Volume","Issue","Pages",'
        '"Accession Number","DOI","Ref","Covidence #","Study","Notes","Tags"\n'
        '"Ketamine for cancer pain","Hartwell, A.; Okafor, D.; Lindqvist, R.","Background: ...","2021","Mar",'
        '"Palliative Medicine","35","3","512-520","33445566","https://doi.org/10.1177/0269216321999999","12",'
        '"#87","Hartwell 2021","","Included; RCT"\n'
    )
    _, (record,) = parse_file(covidence.encode(), filename="review_123_included_csv_20240328.csv")
    assert record.authors == ["Hartwell, A.", "Okafor, D.", "Lindqvist, R."]
    assert (record.year, record.journal, record.pages, record.doi) == (
        2021, "Palliative Medicine", "512-520", "10.1177/0269216321999999",
    )  # fmt: skip
    assert record.raw["Covidence #"] == ["#87"] and record.keywords == []  # Tags are reviewers' labels
    rayyan = (
        "key,title,authors,journal,issn,volume,issue,pages,year,publisher,url,abstract,notes,doi,keywords\n"
        'rayyan-1,Ketamine and opioids,"Smith, J. and Doe, A.",Pain,0304-3959,160,4,1-9,2019,,,An abstract.,'
        '"RAYYAN-INCLUSION: {""Alice""=>""Included""}",10.1097/j.pain.0000000000009999,ketamine; opioid\n'
    )
    _, (record,) = parse_file(rayyan.encode(), filename="articles.csv")
    assert record.authors == ["Smith, J.", "Doe, A."] and record.keywords == ["ketamine", "opioid"]
    assert (record.year, record.volume, record.issue, record.doi) == (
        2019,
        "160",
        "4",
        "10.1097/j.pain.0000000000009999",
    )
    wos = (
        "PT\tAU\tAF\tTI\tSO\tLA\tDT\tDE\tAB\tSP\tPY\tVL\tIS\tBP\tEP\tPG\tDI\tPM\tUT\n"
        "J\tSmith, J; Doe, A\tSmith, John; Doe, Anne\tKetamine for pain\tPAIN\tEnglish\tArticle\tketamine; cancer pain"
        "\tWe studied.\tSome Sponsor\t2020\t12\t3\t100\t110\t11\t10.1000/XYZ\t31234567\tWOS:000123\n"
    )
    _, (record,) = parse_file(wos.encode(), filename="savedrecs.txt")
    assert (record.title, record.authors, record.journal, record.year) == (
        "Ketamine for pain", ["Smith, J", "Doe, A"], "PAIN", 2020,
    )  # fmt: skip
    assert (record.pages, record.doi, record.pmid, record.publication_type) == (
        "100-110",
        "10.1000/xyz",
        "31234567",
        "Article",
    )


def test_sniffers_stay_out_of_each_others_way(shared_data):
    from reviews.importers import ctgov_json, ictrp_xml, tabular

    ris = (shared_data / BIB / "asreview/embase.ris").read_text(encoding="utf-8-sig")[:20_000]
    bib = (shared_data / BIB / "synthesisr/Scopus_bib_example.bib").read_text(encoding="utf-8")[:20_000]
    embase_csv = (shared_data / BIB / "asreview/embase.csv").read_text(encoding="utf-8")[:20_000]  # has e-mails
    assert tabular.sniff(ris, "embase.ris") == tabular.sniff(bib, "x.bib") == 0
    assert bibtex.sniff(embase_csv, "embase.csv") == bibtex.sniff(ris, "embase.ris") == 0
    assert 0 < tabular.sniff(embase_csv, "embase.csv") < bibtex.sniff(bib, "x.bib")
    for other in (ris, bib, embase_csv):
        assert ctgov_json.sniff(other, "x") == ictrp_xml.sniff(other, "x") == 0


# --- trial registers --------------------------------------------------------------------------------------


def test_ctgov_csv():
    data = (DATA / "ctgov.csv").read_bytes()
    fmt, records = parse_file(data, filename="ctgov.csv")
    assert fmt == "tabular"
    assert len(records) == count_rows(data.decode(), ",") == 4
    assert [r.registry_id for r in records] == ["NCT09912345", "NCT09923456", "NCT09934567", "NCT09945678"]
    assert [r.line for r in records] == [2, 5, 6, 7]  # the first brief summary spans three lines
    first = records[0]
    assert first.title == "Low-Dose Ketamine as an Adjunct to Opioids for Refractory Cancer Pain"
    assert first.abstract.startswith("This study tests whether a continuous subcutaneous infusion of low-dose ketamine")
    assert (first.year, first.url) == (2018, "https://clinicaltrials.gov/study/NCT09912345")  # first posted 2018-11-20
    assert (first.publication_type, first.journal, first.keywords) == (
        "trial registration", "ClinicalTrials.gov", ["Cancer Pain", "Neoplasms"],
    )  # fmt: skip
    assert first.raw["Study Status"] == ["COMPLETED"] and len(first.raw) == 30
    assert '"KET-S"' in records[1].abstract
    # No brief summary: a readable summary of what the register says.
    assert records[2].abstract.splitlines()[:2] == [
        "Conditions: Breakthrough Pain; Cancer Pain",
        "Interventions: DRUG: Esketamine nasal spray; DRUG: Fentanyl nasal spray",
    ]


def test_ctgov_csv_from_the_old_site():
    text = (
        '"Rank","NCT Number","Title","Acronym","Status","Study Results","Conditions","Interventions",'
        '"Outcome Measures","First Posted","Start Date","URL"\n'
        '1,"NCT09956789","Ketamine Mouth Rinse for Oral Mucositis Pain","","Completed","No Results Available",'
        '"Oral Mucositis|Head and Neck Cancer","Drug: Ketamine|Drug: Saline","Pain on swallowing",'
        '"March 3, 2015","April 2015","https://ClinicalTrials.gov/show/NCT09956789"\n'
    )
    fmt, (record,) = parse_file(text.encode(), filename="SearchResults.csv")
    assert (fmt, record.registry_id, record.year) == ("tabular", "NCT09956789", 2015)
    assert record.title == "Ketamine Mouth Rinse for Oral Mucositis Pain"
    assert record.url == "https://ClinicalTrials.gov/show/NCT09956789"
    assert "Interventions: Drug: Ketamine; Drug: Saline" in record.abstract


def test_ctgov_json():
    text = (DATA / "ctgov.json").read_text(encoding="utf-8")
    fmt, records = parse_file(text.encode(), filename="ctg-studies.json")
    assert fmt == "ctgov_json"
    studies = json.loads(text)["studies"]
    assert [r.registry_id for r in records] == [s["protocolSection"]["identificationModule"]["nctId"] for s in studies]
    study_starts = [number for number, line in enumerate(text.splitlines(), start=1) if line == "    {"]
    assert [r.line for r in records] == study_starts
    first = records[0]
    assert first.title == "Low-Dose Ketamine as an Adjunct to Opioids for Refractory Cancer Pain"
    assert first.abstract.startswith("This study tests whether a continuous subcutaneous infusion")
    assert (first.year, first.authors, first.url) == (
        2018,
        ["Amelia Hartwell, MD"],
        "https://clinicaltrials.gov/study/NCT09912345",
    )
    assert first.keywords == [
        "Cancer Pain",
        "Neoplasms",
        "ketamine",
        "NMDA receptor antagonist",
        "opioid-refractory pain",
    ]
    assert first.raw["protocolSection.designModule.phases"] == ["PHASE3"]
    assert first.raw["protocolSection.outcomesModule.primaryOutcomes[0].timeFrame"] == ["Baseline to day 5"]
    assert first.raw["hasResults"] == ["false"]
    assert records[2].abstract.startswith("Official title: Intranasal Esketamine Compared With Intranasal Fentanyl")


def test_ctgov_json_list_and_single_study():
    studies = json.loads((DATA / "ctgov.json").read_text(encoding="utf-8"))["studies"]
    fmt, records = parse_file(json.dumps(studies[:2]).encode(), filename="download.json")
    assert (fmt, [r.registry_id for r in records]) == ("ctgov_json", ["NCT09912345", "NCT09923456"])
    fmt, (record,) = parse_file(json.dumps(studies[3], indent=1).encode(), filename="NCT09945678.json")
    assert (fmt, record.registry_id, record.line) == ("ctgov_json", "NCT09945678", 1)


def test_ctgov_json_errors():
    text = (DATA / "ctgov.json").read_text(encoding="utf-8")
    broken = text.replace('"briefTitle": "Oral Ketamine', '"briefTitle" "Oral Ketamine', 1)
    line = broken.splitlines().index(next(x for x in broken.splitlines() if '"briefTitle" "Oral' in x)) + 1
    with pytest.raises(ImportFormatError, match=r"invalid JSON: Expecting ':' delimiter \(column \d+\)") as caught:
        parse_file(broken.encode(), filename="ctg.json")
    assert caught.value.line == line
    with pytest.raises(ImportFormatError, match="found the keys total, widgets"):
        parse_file(b'{"widgets": [1], "total": 2}', filename="x.json", format="ctgov_json")
    with pytest.raises(ImportFormatError, match="no protocolSection") as caught:
        parse_file(b'{"studies": [\n  {"protocolSection": {}},\n  {"x": 1}\n]}', filename="x.json", format="ctgov_json")
    assert (caught.value.record, caught.value.line) == (2, 3)


def test_ictrp_xml():
    text = (DATA / "ictrp.xml").read_text(encoding="utf-8")
    fmt, records = parse_file(text.encode(), filename="ICTRP-Results.xml")
    assert fmt == "ictrp_xml"
    assert [r.line for r in records] == [i for i, line in enumerate(text.splitlines(), 1) if line == "  <Trial>"]
    assert [r.registry_id for r in records] == [
        "CHICTR2200099901", "ACTRN12621000999901", "NCT09912345", "JPRN-JRCTS031220999",
    ]  # fmt: skip
    chinese = records[0]
    assert chinese.title == "Ketamine combined with morphine for moderate to severe cancer pain"
    assert (chinese.year, chinese.journal, chinese.keywords) == (2022, "ChiCTR", ["cancer pain"])
    assert chinese.url == "https://www.chictr.org.cn/showproj.html?proj=999901"
    assert chinese.abstract.startswith("Scientific title: A multicentre randomised controlled trial of low-dose")
    assert chinese.raw["Inclusion_Criteria"][0].startswith("Inclusion criteria: 1. Aged 18-75 years;<br>2.")
    assert chinese.raw["Acronym"] == [""]
    assert "Intervention: Ketamine continuous infusion; Methadone tablets" in records[3].abstract  # <br> list
    assert records[1].keywords == ["Neuropathic cancer pain", "Cancer - Any cancer"]


def test_ictrp_csv():
    data = (DATA / "ictrp.csv").read_bytes()
    fmt, records = parse_file(data, filename="ictrp.csv")
    assert fmt == "tabular"
    assert len(records) == count_rows(data.decode(), ",") == 4
    assert [r.registry_id for r in records] == [
        "CHICTR2200099901", "ACTRN12621000999901", "ISRCTN99912345", "EUCTR2019-009912-34-DE",
    ]  # fmt: skip
    assert [r.line for r in records] == [2, 3, 4, 6]  # the ISRCTN condition cell holds a line break
    record = records[2]
    assert record.title == "Ketamine for bone pain from cancer that has spread (KETBONE)"
    assert (record.year, record.journal, record.url) == (2023, "ISRCTN", "https://www.isrctn.com/ISRCTN99912345")
    assert "Condition: Metastatic bone pain; Cancer" in record.abstract
    assert record.keywords == ["Metastatic bone pain", "Cancer"]
    assert record.publication_type == "trial registration" and record.raw["Secondary ID"] == ["IRAS 999123"]
    # The same trial reads the same from the XML export (fields shared by both).
    _, xml_records = parse_file((DATA / "ictrp.xml").read_bytes(), filename="ictrp.xml")
    for field in ("registry_id", "title", "year", "journal", "url", "keywords", "abstract"):
        assert getattr(records[0], field) == getattr(xml_records[0], field), field


def test_ictrp_csv_with_url_column():
    text = "TrialID,Public title,Scientific title,Date registration,URL\nDRKS00099912,Ketamine at home,,01/02/2020,https://drks.de/search/en/trial/DRKS00099912\n"
    _, (record,) = parse_file(text.encode(), filename="ictrp.csv")
    assert (record.registry_id, record.title, record.year) == ("DRKS00099912", "Ketamine at home", 2020)
    assert record.url == "https://drks.de/search/en/trial/DRKS00099912"


def test_ictrp_trds_xml():
    """The WHO trial registration data set layout (registers → ICTRP): nested, lower case."""
    text = """<?xml version="1.0" encoding="UTF-8"?>
<trials>
  <trial>
    <main>
      <trial_id>ChiCTR2300099977</trial_id>
      <reg_name>ChiCTR</reg_name>
      <date_registration>2023-05-06</date_registration>
      <public_title>Esketamine for cancer pain after surgery</public_title>
      <scientific_title>Esketamine for postoperative pain in patients with gastric cancer</scientific_title>
      <url>http://www.chictr.org.cn/showproj.aspx?proj=199977</url>
    </main>
    <health_condition_keyword>
      <hc_keyword>Gastric cancer</hc_keyword><hc_keyword>Postoperative pain</hc_keyword>
    </health_condition_keyword>
    <intervention_keyword><i_keyword>Esketamine</i_keyword></intervention_keyword>
    <primary_outcome><prim_outcome>Pain score</prim_outcome></primary_outcome>
  </trial>
</trials>
"""
    fmt, (record,) = parse_file(text.encode(), filename="chictr.xml")
    assert (fmt, record.registry_id, record.year, record.line) == ("ictrp_xml", "CHICTR2300099977", 2023, 3)
    assert record.keywords == ["Gastric cancer", "Postoperative pain"]
    assert "Intervention: Esketamine" in record.abstract and "Primary outcome: Pain score" in record.abstract
    assert record.raw["hc_keyword"] == ["Gastric cancer", "Postoperative pain"]


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Trials_downloaded_from_ICTRP><Trial><TrialID>&lol3;</TrialID></Trial></Trials_downloaded_from_ICTRP>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE t [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Trials_downloaded_from_ICTRP><Trial><TrialID>NCT09912345</TrialID><Public_title>&secret;</Public_title></Trial>
</Trials_downloaded_from_ICTRP>
"""


@pytest.mark.parametrize("document", [BOMB, EXTERNAL], ids=["billion-laughs", "external-entity"])
@pytest.mark.parametrize("fmt", [None, "ictrp_xml"])
def test_xml_entities_are_refused(document, fmt):
    with pytest.raises(ImportFormatError, match="entities are not allowed"):
        parse_file(document, filename="ictrp.xml", format=fmt)


def test_malformed_xml_says_where():
    text = (DATA / "ictrp.xml").read_text(encoding="utf-8").replace("</Public_title>", "</Public_titel>", 2)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "</Public_titel>" in x)
    with pytest.raises(ImportFormatError, match="malformed XML: mismatched tag") as caught:
        parse_file(text.encode(), filename="ictrp.xml")
    assert caught.value.line == line


# --- CSV rows that do not fit the header ------------------------------------------------------------------


def test_csv_row_with_extra_values_is_refused_with_its_line():
    text = 'title,authors,year\n"A, fine row",Smith J,2001\nUnquoted, comma title,Doe J,2002\n'
    with pytest.raises(ImportFormatError, match="has 4 cells but the header has 3 columns") as caught:
        parse_file(text.encode(), filename="x.csv")
    assert caught.value.line == 3


def test_csv_trailing_delimiters_and_short_rows():
    text = "title;authors;year\nOne;Smith J;2001;;\nTwo;Doe J\n"
    _, (one, two) = parse_file(text.encode(), filename="x.csv")
    assert (one.title, one.year, one.warnings) == ("One", 2001, [])
    assert two.title == "Two" and two.raw["year"] == [""]
    assert two.warnings == ["this row has only 2 of the 3 columns; the rest were read as empty"]


def test_csv_unclosed_quote_is_refused_at_its_row():
    text = 'title,year\nOne,2001\n"Two,2002\nThree,2003\n'
    with pytest.raises(ImportFormatError, match="never closed") as caught:
        parse_file(text.encode(), filename="x.csv")
    assert caught.value.line == 3


def test_csv_excel_sep_line_and_blank_lines():
    text = "sep=;\nTitle;Authors;Year\n\nA title, with a comma;Smith, John;1999\n"
    fmt, (record,) = parse_file(text.encode(), filename="x.csv")
    assert (fmt, record.title, record.authors, record.year, record.line) == (
        "tabular", "A title, with a comma", ["Smith, John"], 1999, 4,
    )  # fmt: skip


# --- malformed input never crashes (Hypothesis) -----------------------------------------------------------


STRAY = [b"{", b"}", b'"', b"'", b"\n", b",", b";", b"\t", b"@article{x,", b"<", b"]"]


@st.composite
def mangled(draw: st.DrawFn, corpus: list[tuple[bytes, str]]) -> tuple[bytes, str]:
    """A real file, damaged the ways files get damaged: cut off, lines shuffled or lost, random bytes,
    stray braces/quotes/delimiters, the delimiter changed, pieces of another file spliced in."""
    data, filename = draw(st.sampled_from(corpus))
    for operation in draw(st.lists(st.integers(0, 6), min_size=1, max_size=4)):
        if operation == 0:
            data = data[: draw(st.integers(0, len(data)))]
        elif operation == 1:
            lines = data.split(b"\n")
            draw(st.randoms(use_true_random=False)).shuffle(lines)
            data = b"\n".join(lines)
        elif operation == 2:
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=24)) + data[at:]
        elif operation == 3:
            for piece in draw(st.lists(st.sampled_from(STRAY), min_size=1, max_size=6)):
                at = draw(st.integers(0, len(data)))
                data = data[:at] + piece + data[at:]
        elif operation == 4:
            old, new = draw(st.sampled_from([(b",", b";"), (b",", b"\t"), (b"\t", b","), (b";", b","), (b"=", b":")]))
            data = data.replace(old, new)
        elif operation == 5 and data:
            start = draw(st.integers(0, len(data) - 1))
            data = data[:start] + data[start + draw(st.integers(1, 400)) :]
        elif operation == 6:
            other, _ = draw(st.sampled_from(corpus))
            start = draw(st.integers(0, len(other)))
            data = data + other[start : start + draw(st.integers(1, 2000))]
    return data, filename


def assert_records_or_clear_error(data: bytes, filename: str, fmt: str | None) -> None:
    try:
        _name, records = parse_file(data, filename=filename, format=fmt)
    except ImportFormatError as exc:
        assert exc.message.strip() and str(exc).strip()
        # The generic fallback of parse_file means a parser tripped over an exception it did not expect.
        assert "could not be read after record" not in exc.message, exc.message
        return
    assert records and all(isinstance(record, ParsedRecord) for record in records)


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def _corpus(paths: list[Path]) -> list[tuple[bytes, str]]:
    return [(path.read_bytes(), path.name) for path in paths]


@FUZZ
@given(data=st.data(), detect=st.booleans())
def test_fuzz_bibtex(shared_data, data, detect):
    corpus = _corpus([shared_data / BIB / relative for relative in BIBTEX_FILES])
    damaged, filename = data.draw(mangled(corpus))
    assert_records_or_clear_error(damaged, filename, None if detect else "bibtex")


@FUZZ
@given(data=st.data(), detect=st.booleans())
def test_fuzz_tabular(shared_data, data, detect):
    paths = [shared_data / BIB / relative for relative, _ in TABULAR_FILES] + [DATA / "ctgov.csv", DATA / "ictrp.csv"]
    damaged, filename = data.draw(mangled(_corpus(paths)))
    assert_records_or_clear_error(damaged, filename, None if detect else "tabular")


@FUZZ
@given(data=st.data(), detect=st.booleans())
def test_fuzz_ctgov_json(data, detect):
    damaged, filename = data.draw(mangled(_corpus([DATA / "ctgov.json"])))
    assert_records_or_clear_error(damaged, filename, None if detect else "ctgov_json")


@FUZZ
@given(data=st.data(), detect=st.booleans())
def test_fuzz_ictrp_xml(data, detect):
    damaged, filename = data.draw(mangled(_corpus([DATA / "ictrp.xml"])))
    assert_records_or_clear_error(damaged, filename, None if detect else "ictrp_xml")
