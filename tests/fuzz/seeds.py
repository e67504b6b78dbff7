"""Starting inputs for fuzzing the importers: the repo's sample exports, small hand-written files for the formats
the repo has no sample of, and (when present) the real exports in ../shared/data.

Shared by the atheris harness (tests/fuzz/harness.py) and the Hypothesis tests (reviews/tests/test_hostile_*.py),
so that both start from the same files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Big enough for a few records of each sample, small enough that a mutation is cheap to parse.
SEED_BYTES = 16_384

INLINE: dict[str, list[bytes]] = {
    "ris": [
        b"TY  - JOUR\nTI  - Ketamine for cancer pain\nAU  - Smith, J.\nAU  - Doe, A. B.\nPY  - 2012\n"
        b"JO  - J Pain\nVL  - 3\nIS  - 2\nSP  - 10\nEP  - 19\nDO  - 10.5555/x.1\nKW  - pain; opioids\nER  - \n",
    ],
    "pubmed": [
        b"PMID- 90000001\nOWN - NLM\nTI  - Ketamine as an adjuvant to opioids\n      for cancer pain.\n"
        b"AB  - Background text.\nFAU - Smith, John\nAU  - Smith J\nDP  - 2012 Mar\nTA  - J Pain\nVI  - 3\n"
        b"IP  - 2\nPG  - 10-9\nLID - 10.5555/x.2 [doi]\nSI  - ClinicalTrials.gov/NCT09912345\n\n"
        b"PMID- 90000002\nTI  - Second.\nDP  - 2013\n",
    ],
    "wos": [
        b"FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\n   Doe, A\nTI Ketamine for\n"
        b"   cancer pain\nSO J PAIN\nPY 2012\nVL 3\nBP 10\nEP 19\nDI 10.5555/x.3\nUT WOS:000000000000001\nER\n\nEF\n",
    ],
    "refer": [
        b"%0 Journal Article\n%T Ketamine for cancer pain\n%A Smith, John\n%A Doe, Anne\n%D 2012\n%J J Pain\n"
        b"%V 3\n%N 2\n%P 10-19\n%R 10.5555/x.4\n%K pain\n\n%0 Journal Article\n%T Second\n%D 2013\n",
    ],
    "bibtex": [
        b"@string{jp = {J Pain}}\n@article{smith2012,\n  title = {Ketamine for {cancer} pain},\n"
        b'  author = {Smith, John and Doe, Anne},\n  journal = jp,\n  year = 2012,\n  doi = "10.5555/x.5",\n'
        b"  pages = {10--19}\n}\n% a comment\n@inproceedings{doe2013, title={Second}, year={2013}}\n",
    ],
    "tabular": [
        b'Title,Authors,Year,Journal,DOI\n"Ketamine, for cancer pain","Smith J; Doe A",2012,J Pain,10.5555/x.6\n'
        b"Second,Roe R,2013,,\n",
        b"sep=;\nTitle;Authors;Publication Year\nKetamine;Smith J;2012\n",
        b"Title\tAuthors\tYear\nKetamine\tSmith J\t2012\n",
    ],
    "endnote_xml": [
        b'<?xml version="1.0" encoding="UTF-8" ?><xml><records><record><database name="x.enl">x.enl</database>'
        b'<ref-type name="Journal Article">17</ref-type><contributors><authors><author><style face="normal">'
        b"Smith, J.</style></author></authors></contributors><titles><title><style>Ketamine for </style>"
        b'<style face="italic">cancer</style><style> pain</style></title><secondary-title>J Pain'
        b"</secondary-title></titles><volume>3</volume><dates><year>2012</year></dates>"
        b"<electronic-resource-num>10.5555/x.7</electronic-resource-num></record></records></xml>\n",
    ],
    "ctgov_json": [
        b'{"studies":[{"protocolSection":{"identificationModule":{"nctId":"NCT09912345","briefTitle":"Ketamine"},'
        b'"statusModule":{"studyFirstSubmitDate":"2012-03-01"},"conditionsModule":{"conditions":["Pain"]}}}]}',
    ],
    "ictrp_xml": [
        b"<Trials_downloaded_from_ICTRP><Trial><TrialID>ChiCTR2600012345</TrialID><Public_title>Ketamine"
        b"</Public_title><Date_registration>2026-09-20</Date_registration><Condition>Pain</Condition></Trial>"
        b"</Trials_downloaded_from_ICTRP>\n",
    ],
}

REPO_FILES: dict[str, list[str]] = {
    "ris": ["core/demo/sources/medline_ovid.ris", "core/demo/sources/central_crso.ris"],
    "ctgov_json": ["core/demo/sources/clinicaltrials_gov.json", "reviews/tests/data/ctgov.json"],
    "ictrp_xml": ["core/demo/sources/ictrp.xml", "reviews/tests/data/ictrp.xml"],
    "tabular": ["reviews/tests/data/ctgov.csv", "reviews/tests/data/ictrp.csv"],
}

SHARED_FILES: dict[str, list[str]] = {
    "ris": ["asreview/ovid_psycinfo.ris", "rispy/example_full.ris", "asysd/ris_export.txt"],
    "pubmed": ["synthesisr/res_synth_methods.txt", "colrev/eric_nbib.nbib"],
    "wos": ["rispy/example_wos.ris", "synthesisr/WoS_ciw_example.ciw"],
    "refer": ["colrev/ais_enl.txt", "colrev/enl_data.enl"],
    "bibtex": ["synthesisr/Scopus_bib_example.bib", "bibtexparser/gbk_test.bib", "asysd/test_export.bib"],
    "tabular": ["asreview/embase.csv", "asreview/generic_tab.tsv", "colrev/pubmed-chatbot.csv"],
    "endnote_xml": ["endnote_xml/Respiratory_endnote.xml.gz"],
}


def shared_data() -> Path | None:
    """`../shared/data` beside the checkout, or $SIEVE_SHARED_DATA; None when absent."""
    path = Path(os.environ.get("SIEVE_SHARED_DATA") or REPO.parent / "shared" / "data")
    return path if path.is_dir() else None


def _read(path: Path) -> bytes:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return data[:SEED_BYTES]


def seeds(fmt: str, *, shared: bool = True) -> list[bytes]:
    """The starting inputs for one format: inline samples, the repo's files, then the shared data's."""
    found = list(INLINE.get(fmt, []))
    found += [_read(REPO / relative) for relative in REPO_FILES.get(fmt, []) if (REPO / relative).is_file()]
    root = shared_data() if shared else None
    if root is not None:
        for relative in SHARED_FILES.get(fmt, []):
            path = root / "bibliographic" / relative
            if path.is_file():
                found.append(_read(path))
    return found


def all_seeds(*, shared: bool = True) -> list[tuple[str, bytes]]:
    return [(fmt, data) for fmt in INLINE for data in seeds(fmt, shared=shared)]
