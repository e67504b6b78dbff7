# mypy: disable-error-code="index, union-attr"
"""RevMan 5 export: the seed review (three ketamine trials, pain intensity not pooled, unclear RoB 1) with a pooled
dichotomous and a pooled generic inverse variance outcome beside it, records excluded, awaiting classification and
ongoing, and consensus characteristics. The file follows the structure of a file written by RevMan
(`rm5_structure.py`), lays out its lines so that meta::read.rm5's line-by-line reader finds every attribute it reads,
and its calculated data are Sieve's analyses; who may download it."""

import math
import re
from typing import Any

import defusedxml.ElementTree as DET
import pytest
from django.urls import reverse

from exports import rm5
from exports.tests import rm5_structure as S
from extraction.models import Extraction, FieldValue, FormField, StudyReport
from extraction.services import extracting as X
from extraction.services import studies as study_services
from extraction.tests.conftest import erin, seed  # noqa: F401 - fixtures
from grading import services as rob_services
from grading.models import RobAssessment, RobJudgement
from grading.tests.test_certainty import NOT_POOLED, ketamine  # noqa: F401 - fixture
from reviews.models import Import, Record
from reviews.selectors import review_get_for_user
from screening.models import FullText, Stage
from screening.models import Outcome as ScreeningOutcome
from synthesis import services as synthesis_services
from synthesis.models import Analysis

pytestmark = pytest.mark.django_db

# Crossover paired effects (mean differences) for the generic inverse variance outcome.
PAIRED = {"yang": (-0.9, 0.45), "mercadante": (-1.1, 0.6), "hardy": (-0.2, 0.37)}


def _batch(review: Any, source: str, kind: str = Import.SourceKind.DATABASE) -> Import:
    return Import.objects.create(
        review=review, source=source, source_kind=kind, filename=f"{source}.ris", content_hash=f"h-{source}",
        status=Import.Status.SUCCEEDED,
    )  # fmt: skip


def _record(batch: Import, position: int, **fields: Any) -> Record:
    return Record.objects.create(review=batch.review, batch=batch, position=position, **fields)


def _screened(record: Record, stage: str, decision: str, reason: str = "") -> None:
    ScreeningOutcome.objects.create(
        review=record.review, record=record, stage=stage, status=ScreeningOutcome.Status.SETTLED, decision=decision,
        reason=reason,
    )  # fmt: skip


@pytest.fixture
def review_rm5(cast, ketamine):  # noqa: F811 - the imported fixture
    """The seed review (pain intensity not pooled) with hallucinations pooled (RR, Mantel-Haenszel fixed effect),
    paired pain effects pooled (generic inverse variance, REML), the Hardy report, consensus characteristics, and
    records excluded, awaiting classification and ongoing."""
    ket, rid = ketamine, ketamine.review.pk
    for study, (estimate, se) in zip((ket.yang, ket.mercadante, ket.hardy), PAIRED.values(), strict=True):
        extraction = X.consensus_start(user=cast.bob, review_id=rid, study_id=study.pk)
        rows = [{"comparison": ket.comparison.pk, "outcome": ket.pain_giv.pk, "estimate": estimate, "se": se}]
        X.outcome_data_save(user=cast.bob, review_id=rid, extraction_id=extraction.pk, version=None, rows=rows)
    adverse = Analysis.objects.get(outcome=ket.adverse)
    synthesis_services.analysis_update(
        user=cast.bob, review_id=rid, analysis_id=adverse.pk, version=adverse.version, pooled=True,
        effect_measure="RR", model="fixed", method="MH",
    )  # fmt: skip
    synthesis_services.recompute_review(review_id=rid)

    hardy = Extraction.objects.get(study=ket.hardy, reviewer__isnull=True)
    arm = ket.arm(ket.hardy, "Ketamine")
    X.extraction_save(
        user=cast.bob, review_id=rid, extraction_id=hardy.pk, version=None,
        values={"methods_randomisation": "Computer-generated list", "participants_condition": "Cancer pain",
                f"participants_age@{arm.pk}": "62.5", "notes": "Funded by a national grant"},
    )  # fmt: skip

    database = _batch(ket.review, "MEDLINE")
    report = _record(
        database, 1, title="Ketamine for cancer pain: a randomised trial", authors=["Hardy, J", "Quinn, S"],
        year=2012, journal="J Clin Oncol", doi="10.1200/JCO.2012.42.1694",
    )  # fmt: skip
    StudyReport.objects.create(review=ket.review, study=ket.hardy, record=report, primary=True)
    excluded = _record(database, 2, title="Ketamine in postoperative pain", authors=["Smith, A"], year=2005)
    _screened(excluded, Stage.TITLE_ABSTRACT, "include")
    _screened(excluded, Stage.FULL_TEXT, "exclude", "Wrong population: postoperative pain")
    awaiting = _record(database, 3, title="Ketamine infusion: a pilot", authors=["Jones, B"], year=2019)
    _screened(awaiting, Stage.TITLE_ABSTRACT, "include")
    FullText.objects.create(review=ket.review, record=awaiting, not_retrieved=True)
    register = _batch(ket.review, "ClinicalTrials.gov", Import.SourceKind.REGISTER)
    ongoing = _record(register, 1, title="Oral ketamine for neuropathic cancer pain", registry_id="NCT01234567")
    _screened(ongoing, Stage.TITLE_ABSTRACT, "include")
    _screened(ongoing, Stage.FULL_TEXT, "include")
    return ket


def export(cast: Any, ket: Any, who: str = "bob") -> bytes:
    review = review_get_for_user(user=getattr(cast, who), review_id=ket.review.pk)
    return rm5.rm5_document(review=review, user=getattr(cast, who))


def parsed(data: bytes) -> Any:
    return DET.fromstring(data)


def analyses_by_outcome(ket: Any) -> dict[int, Analysis]:
    return {a.outcome_id: a for a in Analysis.objects.filter(review=ket.review)}


def close(written: str, value: float | None) -> bool:
    if value is None:
        return written == ""
    return math.isclose(float(written), value, rel_tol=1e-12, abs_tol=1e-12)


# --- the structure of a real RevMan file ------------------------------------------------------------------------


def structure_problems(root: Any) -> list[str]:
    """Every place where the document leaves the structure of the real file (see rm5_structure)."""
    problems: list[str] = []

    def walk(element: Any, path: str) -> None:
        tag = element.tag
        where = f"{path}/{tag}"
        if tag not in S.STRUCTURE:
            problems.append(f"{where}: not an element of a RevMan file")
            return
        allowed_attrs, allowed_children = S.STRUCTURE[tag]
        extra = set(element.attrib) - allowed_attrs
        if extra:
            problems.append(f"{where}: attributes {sorted(extra)} not written by RevMan")
        missing = S.REQUIRED_ATTRIBUTES.get(tag, frozenset()) - set(element.attrib)
        if missing:
            problems.append(f"{where}: lacks attributes {sorted(missing)}")
        tags = [child.tag for child in element]
        unknown = [t for t in tags if t not in allowed_children]
        if unknown:
            problems.append(f"{where}: children {unknown} not allowed here")
        mixed = S.INTERLEAVED.get(tag, frozenset())
        rank = {
            t: min(allowed_children.index(m) for m in mixed) if t in mixed else i
            for i, t in enumerate(allowed_children)
        }
        positions = [rank[t] for t in tags if t in rank]
        if positions != sorted(positions):
            problems.append(f"{where}: children out of RevMan's order: {tags}")
        absent = [t for t in S.REQUIRED_CHILDREN.get(tag, ()) if t not in tags]
        if absent:
            problems.append(f"{where}: lacks {absent}")
        for child in element:
            walk(child, where)

    walk(root, "")
    return problems


def test_the_seed_review_follows_the_structure_of_a_real_revman_file(cast, review_rm5):
    data = export(cast, review_rm5)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<COCHRANE_REVIEW ')
    data.decode("utf-8")  # UTF-8 throughout
    root = parsed(data)
    assert structure_problems(root) == []
    assert root.get("REVMAN_VERSION") == "5" and root.get("TYPE") == "INTERVENTION" and root.get("STAGE") == "R"
    assert root.find("COVER_SHEET/TITLE").text == "Ketamine as an adjuvant to opioids for cancer pain"
    tags = {e.tag for e in root.iter()}
    assert {"DICH_OUTCOME", "CONT_OUTCOME", "IV_OUTCOME", "DICH_SUBGROUP", "CONT_SUBGROUP", "EXCLUDED_CHAR"} <= tags
    assert {"AWAITING_CHAR", "ONGOING_CHAR", "QUALITY_ITEM_DATA_ENTRY", "IV_DATA", "DICH_DATA", "CONT_DATA"} <= tags


def test_the_structure_check_can_fail():
    root = DET.fromstring(
        b'<COCHRANE_REVIEW REVMAN_VERSION="5" BOGUS="1"><MAIN_TEXT/><COVER_SHEET><TITLE>x</TITLE></COVER_SHEET>'
        b"<ANALYSES_AND_DATA><COMPARISON ID='CMP-001' NO='1'><NAME>c</NAME><CONT_OUTCOME><NAME>o</NAME>"
        b"</CONT_OUTCOME></COMPARISON></ANALYSES_AND_DATA><WRONG/></COCHRANE_REVIEW>"
    )
    text = "\n".join(structure_problems(root))
    assert "attributes ['BOGUS'] not written by RevMan" in text
    assert "/COCHRANE_REVIEW/WRONG: not an element" in text
    assert "children out of RevMan's order" in text  # MAIN_TEXT before COVER_SHEET
    assert "lacks ['GROUP_LABEL_1'" in text and "lacks attributes" in text


# --- meta::read.rm5 ---------------------------------------------------------------------------------------------


def meta_read(text: str) -> list[dict[str, Any]]:
    """The data rows as meta::read.rm5 (guido-s/meta, R/read.rm5.R and `extract_outcomes`) finds them: it greps
    lines rather than parsing the document, so this follows its line selection step by step: the ANALYSES_AND_DATA
    lines; per COMPARISON its first lines up to the first `</NAME>` and its last line; per outcome its first
    max(6, first data or subgroup line - 1, the `</GRAPH_LABEL_2>` line (`</EFFECT_MEASURE>` for IV)) lines and its
    last; per subgroup up to its `</NAME>`; data rows from each `<X_DATA` line to the next line holding `/>` or
    `</X_DATA` that is not a label or effect-measure line. Each piece must parse as XML on its own, as it must for
    meta's xml2."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if "<ANALYSES_AND_DATA" in line)
    end = next(i for i, line in enumerate(lines) if "</ANALYSES_AND_DATA" in line)
    txt = lines[start + 1 : end]
    found: list[dict[str, Any]] = []

    def grep(pattern: str, block: list[str]) -> list[int]:
        return [i for i, line in enumerate(block) if pattern in line]

    def fragment(block: list[str], upto: int) -> Any:
        return DET.fromstring(" ".join([*block[:upto], block[-1]]))

    def data_rows(block: list[str], kind: str) -> list[Any]:
        starts = grep(f"<{kind}_DATA", block)
        ends = [
            i
            for i, line in enumerate(block)
            if ("/>" in line or f"</{kind}_DATA" in line)
            and not any(x in line for x in ("<GROUP_LABEL", "<GRAPH_LABEL", "<EFFECT_MEASURE"))
        ]
        assert len(starts) == len(ends), f"meta stops: Malformed XML file (tag: {kind}_DATA)"
        return [DET.fromstring("".join(block[a : b + 1])) for a, b in zip(starts, ends, strict=True)]

    comp_starts, comp_ends = grep("<COMPARISON", txt), grep("</COMPARISON", txt)
    assert len(comp_starts) == len(comp_ends)
    for a, b in zip(comp_starts, comp_ends, strict=True):
        block = txt[a : b + 1]
        names = grep("</NAME>", block)
        comparison = fragment(block, max(2, min(names) + 1) if names else 2)
        for kind in ("DICH", "CONT", "IV"):
            o_starts, o_ends = grep(f"<{kind}_OUTCOME", block), grep(f"</{kind}_OUTCOME", block)
            assert len(o_starts) == len(o_ends), f"meta stops: Malformed XML file (tag: {kind}_OUTCOME)"
            for c, d in zip(o_starts, o_ends, strict=True):
                outcome_block = block[c : d + 1]
                marks = [i - 1 for i in grep(f"<{kind}_DATA", outcome_block)]
                marks += [i - 1 for i in grep(f"<{kind}_SUBGROUP", outcome_block)]
                marks += grep("</EFFECT_MEASURE>" if kind == "IV" else "</GRAPH_LABEL_2>", outcome_block)
                header = fragment(outcome_block, max(6, min(marks) + 1) if marks else 6)
                opened, closed = grep(f"<{kind}_SUBGROUP", outcome_block), grep(f"</{kind}_SUBGROUP", outcome_block)
                assert len(opened) == len(closed), f"meta stops: Malformed XML file (tag: {kind}_SUBGROUP)"
                groups = list(zip(opened, closed, strict=True))
                pieces = []
                if groups:
                    for e, f in groups:
                        group_block = outcome_block[e : f + 1]
                        names = grep("</NAME>", group_block)
                        firsts = [i - 1 for i in grep(f"<{kind}_DATA", group_block)] + names
                        group = fragment(group_block, max(2, min(firsts) + 1) if firsts else 2)
                        pieces += [(group, row) for row in data_rows(group_block, kind)]
                else:
                    pieces = [(None, row) for row in data_rows(outcome_block, kind)]
                for group, row in pieces:
                    found.append(
                        {"comparison": comparison, "outcome": header, "kind": kind, "subgroup": group, "row": row}
                    )
    return found


def test_meta_read_rm5_finds_every_attribute_it_reads(cast, review_rm5):
    text = export(cast, review_rm5).decode("utf-8")
    rows = meta_read(text)
    assert {r["kind"] for r in rows} == {"DICH", "CONT", "IV"}
    assert len(rows) == 4 + 3 + 3  # pain: 4 rows (two Mercadante doses), hallucinations 3, paired pain 3
    root = parsed(text.encode())
    included = {s.get("ID"): s for s in root.iterfind("STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES/STUDY")}

    def has(element: Any, reads: tuple[frozenset[str], tuple[str, ...]], what: str) -> None:
        attrs, children = reads
        assert attrs <= set(element.attrib), f"{what} lacks {sorted(attrs - set(element.attrib))}"
        for child in children:  # meta's xml_find_all("//NAME") on the fragment
            assert element.find(f".//{child}") is not None and element.find(f".//{child}").text, f"{what}: {child}"

    for r in rows:
        has(r["comparison"], S.META_READS["COMPARISON"], "COMPARISON")
        has(r["outcome"], S.META_READS["OUTCOME"], "outcome")
        has(r["outcome"], S.META_READS.get(f"{r['kind']}_OUTCOME", (frozenset(), ())), f"{r['kind']}_OUTCOME")
        if r["subgroup"] is not None:
            has(r["subgroup"], S.META_READS["SUBGROUP"], "subgroup")
        has(r["row"], S.META_READS["DATA"], "data row")
        has(r["row"], S.META_READS.get(f"{r['kind']}_DATA", (frozenset(), ())), f"{r['kind']}_DATA")
        study = included[r["row"].get("STUDY_ID")]  # meta merges the rows with the studies by ID
        has(study, S.META_READS["STUDY"], "STUDY")
        # What meta derives: the number of studies from DF, the model from RANDOM, IV measures from the element.
        assert int(r["outcome"].get("DF")) + 1 >= 1 and r["outcome"].get("RANDOM") in ("YES", "NO")
        for value in (r["row"].get("EFFECT_SIZE"), r["row"].get("WEIGHT"), r["outcome"].get("EFFECT_SIZE")):
            assert value == "" or math.isfinite(float(value))  # R's as.numeric: a number or NA, never garbage


def test_meta_reader_port_fails_on_a_layout_meta_cannot_read(cast, review_rm5):
    text = export(cast, review_rm5).decode("utf-8")
    # RevMan-style one element per line is what meta needs: an empty label written as `<GROUP_LABEL_1 />` is
    # skipped by meta, but an empty NAME adds a `/>` line and meta counts one data row too many.
    broken = re.sub(r"<NAME>Pain intensity \(paired\)</NAME>", "<NAME />", text)
    with pytest.raises(AssertionError, match="Malformed XML file"):
        meta_read(broken)
    squashed = text.replace(">\n<", "><")  # the analyses on one line: no rows between their start and end lines
    assert meta_read(squashed) == []


# --- calculated data equal Sieve's analyses -----------------------------------------------------------------------


def outcome_element(root: Any, ket: Any, outcome: Any) -> Any:
    found = [e for e in root.iter() if e.tag.endswith("_OUTCOME") and e.find("NAME").text == str(outcome)]
    assert len(found) == 1, str(outcome)
    return found[0]


def test_calculated_data_equal_sieves_analyses(cast, review_rm5, api):
    ket = review_rm5
    root = parsed(export(cast, ket))
    reported = {
        a["outcome"]: a for a in api("bob").get(reverse("api-analysis-list", args=[ket.review.pk])).json()["results"]
    }  # what Sieve's API reports
    analyses = analyses_by_outcome(ket)
    checked_rows = 0
    for outcome in (ket.pain, ket.adverse, ket.pain_giv):
        element, shown, stored = outcome_element(root, ket, outcome), reported[outcome.pk], analyses[outcome.pk]
        assert shown["status"] == "current"
        ids = {s.get("ID"): s.get("NAME") for s in root.iter("STUDY")}
        rows = {
            (ids[row.get("STUDY_ID")], parent.find("NAME").text if parent is not element else ""): row
            for parent in [element, *(g for g in element if g.tag.endswith("_SUBGROUP"))]
            for row in parent
            if row.tag.endswith("_DATA")
        }
        assert len(rows) == len(shown["per_study"])
        for study in shown["per_study"]:
            subgroup = study["subgroup"] or ("No subgroup" if any(s["subgroup"] for s in shown["per_study"]) else "")
            row = rows[(study["label"], subgroup)]
            checked_rows += 1
            for attribute, key in (("EFFECT_SIZE", "effect"), ("CI_START", "ci_low"), ("CI_END", "ci_high")):
                assert close(row.get(attribute), study[key]), (outcome, study["label"], attribute)
            assert close(row.get("SE"), study["se"] if study["se"] is not None else study["se_given"])
            assert close(row.get("WEIGHT"), study["weight"])
            for attribute in ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2", "MEAN_1", "SD_1", "MEAN_2", "SD_2"):
                if attribute in row.attrib:
                    assert close(row.get(attribute), study[attribute.lower()])
        pooled = stored.pooled
        assert element.get("TOTALS") == ("YES" if pooled else "NO")
        assert close(element.get("EFFECT_SIZE"), shown["estimate"] if pooled else None)
        assert close(element.get("CI_START"), shown["ci_low"] if pooled else None)
        assert close(element.get("CI_END"), shown["ci_high"] if pooled else None)
        assert close(element.get("I2"), shown["i2"] if pooled else None)
        assert close(element.get("TAU2"), shown["tau2"] if pooled else None)
        assert close(element.get("CHI2"), shown["q"] if pooled else None)
        assert close(element.get("P_CHI2"), shown["p_heterogeneity"] if pooled else None)
        assert close(element.get("P_Z"), shown["p"] if pooled else None)
        z = stored.result["z"]
        assert close(element.get("Z"), abs(z) if pooled and z is not None else None)
        if pooled:
            assert close(element.get("WEIGHT"), sum(s["weight"] for s in shown["per_study"] if s["weight"]))
            assert element.get("DF") == str(shown["df"])
        for group in (g for g in element if g.tag.endswith("_SUBGROUP") and pooled):
            entry = next(s for s in shown["subgroups"] if (s["name"] or "No subgroup") == group.find("NAME").text)
            for attribute, key in (("EFFECT_SIZE", "estimate"), ("CI_START", "ci_low"), ("CI_END", "ci_high")):
                assert close(group.get(attribute), entry[key])
            assert close(group.get("I2"), entry["i2"]) and close(group.get("TAU2"), entry["tau2"])
        test = shown["subgroup_test"]
        if pooled and test:
            assert close(element.get("Q"), test["q"]) and close(element.get("P_Q"), test["p"])
            assert close(element.get("I2_Q"), test["i2"])
    assert checked_rows == 10


def test_pain_intensity_not_pooled_keeps_its_study_results_without_totals(cast, review_rm5):
    ket = review_rm5
    root = parsed(export(cast, ket))
    pain = outcome_element(root, ket, ket.pain)
    assert pain.tag == "CONT_OUTCOME" and pain.get("EFFECT_MEASURE") == "MD" and pain.get("UNITS") == "VAS 0-10"
    assert (pain.get("TOTALS"), pain.get("EFFECT_SIZE"), pain.get("WEIGHT"), pain.get("ESTIMABLE")) == (
        "NO",
        "",
        "",
        "NO",
    )
    assert pain.get("SUBGROUPS") == "YES" and pain.get("SUBGROUP_TEST") == "NO"
    assert [g.find("NAME").text for g in pain.iter("CONT_SUBGROUP")] == ["No subgroup", "0.25 mg/kg", "0.5 mg/kg"]
    yang = next(r for r in pain.iter("CONT_DATA") if r.get("STUDY_ID") == "STD-Yang-1996")
    assert yang.get("MEAN_1") == "3.0" and yang.get("TOTAL_2") == "20" and yang.get("WEIGHT") == ""
    assert math.isclose(float(yang.get("EFFECT_SIZE")), -0.9)
    assert (pain.get("TOTAL_1"), pain.get("TOTAL_2")) == ("115", "114")  # 20 + 10 + 10 + 75; 20 + 10 + 10 + 74
    assert pain.find("GRAPH_LABEL_1").text == "Favours Ketamine + opioid"  # lower is better: left favours ketamine
    synthesis = " ".join(p.text for p in root.iterfind("MAIN_TEXT/BODY/METHODS/DATA_COLLECTION/DATA_SYNTHESIS/P"))
    assert "Pain intensity (End of treatment): Mean difference, random effects, Restricted maximum likelihood" in (
        synthesis
    )
    assert NOT_POOLED.rstrip(".") in synthesis


def test_pooled_outcomes_carry_revmans_conventions(cast, review_rm5):
    ket = review_rm5
    root = parsed(export(cast, ket))
    adverse = outcome_element(root, ket, ket.adverse)
    assert (adverse.get("EFFECT_MEASURE"), adverse.get("METHOD"), adverse.get("RANDOM")) == ("RR", "MH", "NO")
    assert adverse.get("EVENTS_1") == "11" and adverse.get("TOTAL_2") == "104"
    estimate = float(adverse.get("EFFECT_SIZE"))
    assert math.isclose(float(adverse.get("LOG_EFFECT_SIZE")), math.log10(estimate))  # RevMan's base-10 logs
    row = next(adverse.iter("DICH_DATA"))
    assert math.isclose(float(row.get("VAR")), float(row.get("SE")) ** 2) and row.get("O_E") == "0.0"
    giv = outcome_element(root, ket, ket.pain_giv)
    assert giv.tag == "IV_OUTCOME" and giv.find("EFFECT_MEASURE").text == "Difference"
    assert (giv.get("LOG_DATA"), giv.get("METHOD"), giv.get("RANDOM"), giv.get("SUBGROUPS")) == (
        "NO",
        "IV",
        "YES",
        "NO",
    )
    yang = next(r for r in giv.iter("IV_DATA") if r.get("STUDY_ID") == "STD-Yang-1996")
    assert (yang.get("EFFECT_SIZE"), yang.get("SE")) == ("-0.9", "0.45")
    orders = [int(r.get("ORDER")) for r in root.iter() if r.tag in ("DICH_DATA", "CONT_DATA", "IV_DATA")]
    assert orders == list(range(1, len(orders) + 1))  # numbered through the review, as RevMan does


def test_a_stale_analysis_keeps_its_data_but_no_calculated_values(cast, review_rm5):
    ket = review_rm5
    Analysis.objects.filter(outcome=ket.adverse).update(status=Analysis.Status.STALE)
    adverse = outcome_element(parsed(export(cast, ket)), ket, ket.adverse)
    assert adverse.get("TOTALS") == "YES" and adverse.get("EFFECT_SIZE") == "" and adverse.get("CHI2") == ""
    rows = list(adverse.iter("DICH_DATA"))
    assert len(rows) == 3 and all(r.get("EFFECT_SIZE") == "" and r.get("WEIGHT") == "" for r in rows)
    assert sorted(r.get("EVENTS_1") for r in rows) == ["1", "4", "6"]


# --- studies, characteristics, risk of bias ------------------------------------------------------------------------


def test_included_excluded_awaiting_and_ongoing_studies(cast, review_rm5):
    root = parsed(export(cast, review_rm5))
    studies = root.find("STUDIES_AND_REFERENCES/STUDIES")
    included = {s.get("NAME"): s for s in studies.iterfind("INCLUDED_STUDIES/STUDY")}
    assert {n: (s.get("ID"), s.get("YEAR")) for n, s in included.items()} == {
        "Hardy 2012": ("STD-Hardy-2012", "2012"), "Mercadante 2000": ("STD-Mercadante-2000", "2000"),
        "Yang 1996": ("STD-Yang-1996", "1996"),
    }  # fmt: skip
    reference = included["Hardy 2012"].find("REFERENCE")
    assert reference.get("PRIMARY") == "YES" and reference.find("TI").text.startswith("Ketamine for cancer pain")
    assert reference.find("AU").text == "Hardy, J, Quinn, S" and reference.find("YR").text == "2012"
    assert reference.find("IDENTIFIERS/IDENTIFIER").attrib == {"TYPE": "DOI", "VALUE": "10.1200/JCO.2012.42.1694"}
    [excluded] = studies.iterfind("EXCLUDED_STUDIES/STUDY")
    [awaiting] = studies.iterfind("AWAITING_STUDIES/STUDY")
    [ongoing] = studies.iterfind("ONGOING_STUDIES/STUDY")
    assert (excluded.get("NAME"), awaiting.get("NAME"), ongoing.get("NAME")) == (
        "Smith 2005",
        "Jones 2019",
        "NCT01234567",
    )
    chars = root.find("CHARACTERISTICS_OF_STUDIES")
    reason = chars.find(f"CHARACTERISTICS_OF_EXCLUDED_STUDIES/EXCLUDED_CHAR[@STUDY_ID='{excluded.get('ID')}']")
    assert reason.find("CHAR_REASON_FOR_EXCLUSION/P").text == "Wrong population: postoperative pain"
    note = chars.find(f"CHARACTERISTICS_OF_AWAITING_STUDIES/AWAITING_CHAR[@STUDY_ID='{awaiting.get('ID')}']")
    assert note.find("CHAR_NOTES/P").text == "Full text not retrieved."
    trial = chars.find(f"CHARACTERISTICS_OF_ONGOING_STUDIES/ONGOING_CHAR[@STUDY_ID='{ongoing.get('ID')}']")
    assert trial.find("CHAR_STUDY_NAME/P").text == "Oral ketamine for neuropathic cancer pain"


def test_characteristics_of_included_studies_come_from_the_consensus(cast, review_rm5):
    root = parsed(export(cast, review_rm5))
    hardy = root.find(
        "CHARACTERISTICS_OF_STUDIES/CHARACTERISTICS_OF_INCLUDED_STUDIES/INCLUDED_CHAR[@STUDY_ID='STD-Hardy-2012']"
    )
    text = {child.tag: [p.text for p in child] for child in hardy}
    assert list(text) == ["CHAR_METHODS", "CHAR_PARTICIPANTS", "CHAR_INTERVENTIONS", "CHAR_OUTCOMES", "CHAR_NOTES"]
    assert text["CHAR_METHODS"] == [
        "Design: Parallel randomised",
        "Random sequence generation: Computer-generated list",
    ]
    assert text["CHAR_PARTICIPANTS"] == ["Condition: Cancer pain", "Mean age (Ketamine): 62.5 years"]
    assert text["CHAR_INTERVENTIONS"][0] == "Ketamine: Ketamine, Subcutaneous (93 randomised, 75 completed)"
    assert text["CHAR_NOTES"] == ["Notes: Funded by a national grant"]
    # A reviewer's own (non-consensus) values never reach the file.
    carol_extraction = Extraction.objects.create(
        review=review_rm5.review, study=review_rm5.hardy, form=review_rm5.form, reviewer=cast.carol
    )
    field = FormField.objects.get(form=review_rm5.form, key="participants_condition")
    FieldValue.objects.create(extraction=carol_extraction, field=field, value="Not the consensus")
    assert b"Not the consensus" not in export(cast, review_rm5)


def test_rob1_consensus_fills_revmans_core_items(cast, review_rm5):
    root = parsed(export(cast, review_rm5))
    items = list(root.iterfind("QUALITY_ITEMS/QUALITY_ITEM"))
    assert [i.find("NAME").text for i in items] == [
        "Random sequence generation (selection bias)", "Allocation concealment (selection bias)",
        "Blinding of participants and personnel (performance bias)", "Blinding of outcome assessment (detection bias)",
        "Incomplete outcome data (attrition bias)", "Selective reporting (reporting bias)", "Other sources of bias",
    ]  # fmt: skip
    assert [i.get("LEVEL") for i in items] == ["STUDY", "STUDY", "GROUP", "GROUP", "GROUP", "STUDY", "STUDY"]
    entries = [e for i in items for e in i.iter("QUALITY_ITEM_DATA_ENTRY")]
    assert len(entries) == 21 and {e.get("RESULT") for e in entries} == {"UNKNOWN"}
    assert {e.find("DESCRIPTION/P").text for e in entries} == {"Not described in the report."}
    # A judgement of low and one of high come out as YES and NO.
    consensus = RobAssessment.objects.get(study=review_rm5.hardy, assessor__isnull=True, outcome__isnull=True)
    RobJudgement.objects.filter(assessment=consensus, domain="random_sequence").update(judgement="low")
    RobJudgement.objects.filter(assessment=consensus, domain="other").update(judgement="high")
    root = parsed(export(cast, review_rm5))
    results = {
        (i.find("NAME").text[:6], e.get("STUDY_ID")): e.get("RESULT")
        for i in root.iterfind("QUALITY_ITEMS/QUALITY_ITEM")
        for e in i.iter("QUALITY_ITEM_DATA_ENTRY")
    }
    assert results[("Random", "STD-Hardy-2012")] == "YES" and results[("Other ", "STD-Hardy-2012")] == "NO"
    assert results[("Random", "STD-Yang-1996")] == "UNKNOWN"


def test_rob2_is_written_as_user_defined_items_that_spell_out_the_judgement(cast, review_rm5):
    ket = review_rm5
    RobAssessment.objects.filter(review=ket.review).delete()  # the tool changes only before any assessment
    settings = rob_services.settings_for(ket.review)
    rob_services.settings_update(user=cast.alice, review_id=ket.review.pk, version=settings.version, tool="rob2")
    assessment = RobAssessment.objects.create(
        review=ket.review, study=ket.hardy, outcome=ket.pain, tool="rob2", overall="some_concerns",
        status=RobAssessment.Status.COMPLETE,
    )  # fmt: skip
    RobJudgement.objects.create(assessment=assessment, domain="D1", judgement="low", support="Central randomisation.")
    RobJudgement.objects.create(assessment=assessment, domain="D2", judgement="some_concerns", support="Open label.")
    root = parsed(export(cast, ket))
    assert structure_problems(root) == []
    items = {i.find("NAME").text: i for i in root.iterfind("QUALITY_ITEMS/QUALITY_ITEM")}
    d1 = items["RoB 2 D1: Bias arising from the randomisation process (Pain intensity (End of treatment))"]
    d2 = items["RoB 2 D2: Bias due to deviations from intended intervention (Pain intensity (End of treatment))"]
    overall = items["RoB 2 Overall (Pain intensity (End of treatment))"]
    assert d1.get("CORE_ITEM") == "NO" and "not a RevMan 5 tool" in d1.find("DESCRIPTION/P").text
    assert d1.find(".//QUALITY_ITEM_DATA_ENTRY").get("RESULT") == "YES"
    entry = d2.find(".//QUALITY_ITEM_DATA_ENTRY")
    assert entry.get("RESULT") == "UNKNOWN" and entry.find("DESCRIPTION/P").text == "Some concerns. Open label."
    assert overall.find(".//QUALITY_ITEM_DATA_ENTRY").find("DESCRIPTION/P").text == "Some concerns."
    assert not any("Random sequence generation" in name for name in items)  # no RoB 1 core items for a RoB 2 review


# --- small pieces -------------------------------------------------------------------------------------------------


def test_revman_study_ids_and_numbers():
    assert rm5.study_id("ISIS-2") == "STD-ISIS_x002d_2"  # as RevMan wrote it in the real file
    assert rm5.study_id("Hardy 2012a") == "STD-Hardy-2012a"
    assert rm5.study_id("Müller 2001") == "STD-M_x00fc_ller-2001"
    assert rm5.number(None) == "" and rm5.number(float("inf")) == "" and rm5.number(float("nan")) == ""
    assert rm5.number(0.1 + 0.2) == "0.30000000000000004" and rm5.number(3) == "3"
    assert rm5.log10(0) == "" and rm5.log10(100.0) == "2.0"


def test_text_is_escaped_and_one_line_per_element(cast, review_rm5):
    ket = review_rm5
    ket.comparison.__class__.objects.filter(pk=ket.comparison.pk).update(name='Ketamine <b>&</b> "placebo"\nnew')
    data = export(cast, ket)
    root = parsed(data)
    assert root.find("ANALYSES_AND_DATA/COMPARISON/NAME").text == 'Ketamine <b>&</b> "placebo" new'
    assert b"<b>" not in data
    assert len(meta_read(data.decode())) == 10  # meta still finds every row
    # A control character from an imported title (XML 1.0 cannot hold it) is dropped, not written.
    Record.objects.filter(title__startswith="Ketamine for cancer pain").update(title="Ketamine\x0b for cancer pain")
    root = parsed(export(cast, ket))
    assert root.find(".//INCLUDED_STUDIES/STUDY/REFERENCE/TI").text == "Ketamine for cancer pain"


# --- who may download it --------------------------------------------------------------------------------------------


def url(ket: Any) -> str:
    return reverse("api-export-rm5", args=[ket.review.pk])


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_owners_and_editors_download_the_file(cast, review_rm5, api, who):
    response = api(who).get(url(review_rm5), HTTP_ACCEPT="application/xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert response["Content-Disposition"] == (
        'attachment; filename="ketamine-as-an-adjuvant-to-opioids-for-cancer-pain.rm5"'
    )
    assert structure_problems(parsed(response.content)) == []


def test_a_reviewer_waits_until_extraction_and_risk_of_bias_are_unblinded(cast, review_rm5, api):
    ket = review_rm5
    response = api("carol").get(url(ket))
    assert response.status_code == 403 and "blinded" in response.json()["detail"]
    extraction = study_services.settings_for(ket.review)
    study_services.settings_update(user=cast.alice, review_id=ket.review.pk, version=extraction.version, blinded=False)
    response = api("carol").get(url(ket))
    assert response.status_code == 403 and "risk-of-bias" in response.json()["detail"]  # still blinded there
    rob = rob_services.settings_for(ket.review)
    rob_services.settings_update(user=cast.alice, review_id=ket.review.pk, version=rob.version, blinded=False)
    response = api("carol").get(url(ket))
    assert response.status_code == 200 and b"<ANALYSES_AND_DATA" in response.content


def test_outsiders_get_404_and_anonymous_401(cast, review_rm5, api):
    assert api("dave").get(url(review_rm5)).status_code == 404
    assert api("anonymous").get(url(review_rm5)).status_code == 401


def test_the_export_reads_a_bounded_number_of_queries(cast, review_rm5, django_assert_max_num_queries):
    review = review_get_for_user(user=cast.bob, review_id=review_rm5.review.pk)
    with django_assert_max_num_queries(25):  # 18 now, whatever the number of studies, records or analyses
        rm5.rm5_document(review=review, user=cast.bob)
