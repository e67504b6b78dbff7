# mypy: disable-error-code="attr-defined"
"""Blinding across every download of a review (issue 8): one review in which a second reviewer, erin, has screened,
extracted and assessed risk of bias with marker strings in her notes, reasons, values and support text, and the
editor's consensus has markers of its own, while screening, extraction and risk of bias are blinded.

Each export endpoint and page download is fetched by carol (a blinded reviewer): it is refused with a reason, or
its text holds none of erin's markers, none of the consensus's and no conflict status. The same downloads for
bob and alice hold the markers where the format carries them (so that the check can fail), dave (an outsider)
gets 404 everywhere and an anonymous user 401 (API) or the login page (pages). Once nothing is blinded, carol's
downloads hold what the editors' do, except the editors-only PRISMA figures."""

import csv
import io
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import docx
import orjson
import pytest
from django.urls import reverse
from django.utils import timezone

from extraction import models as X
from extraction import selectors as extraction_selectors
from extraction.services import extracting as E
from extraction.tests.conftest import erin, seed
from grading import models as G
from grading import services as rob_services
from grading.models import RobAssessment
from grading.tests.test_certainty import accept_proposals, ketamine, pain, view_of
from reviews.models import Import, Record
from screening import selectors as screening_selectors
from screening import services as screening_services
from screening.models import Outcome
from synthesis.models import Analysis

__all__ = ["erin", "ketamine", "seed"]

pytestmark = pytest.mark.django_db

TA = "title_abstract"

# erin's work: a decision note, an exclusion reason, an extracted value, an outcome-data note, a support text.
ERIN_NOTE, ERIN_REASON = "ERIN-SECRET-NOTE-7731", "ERIN-SECRET-REASON-7732"
ERIN_VALUE, ERIN_DATA, ERIN_SUPPORT = "ERIN-SECRET-VALUE-7733", "ERIN-SECRET-DATA-7734", "ERIN-SECRET-SUPPORT-7735"
ERIN = (ERIN_NOTE, ERIN_REASON, ERIN_VALUE, ERIN_DATA, ERIN_SUPPORT)
# The editor's: a conflict's resolution, the consensus value, outcome-data note and support text.
RESOLUTION, CONSENSUS_VALUE = "CONSENSUS-SECRET-RESOLUTION-8841", "CONSENSUS-SECRET-VALUE-8842"
CONSENSUS_DATA, CONSENSUS_SUPPORT = "CONSENSUS-SECRET-DATA-8843", "CONSENSUS-SECRET-SUPPORT-8844"
CONSENSUS = (RESOLUTION, CONSENSUS_VALUE, CONSENSUS_DATA, CONSENSUS_SUPPORT)
# carol's own, which her downloads must hold (else an empty file would pass).
CAROL_NOTE, CAROL_REASON = "CAROL-OWN-NOTE-5521", "CAROL-OWN-REASON-5522"
CAROL_VALUE, CAROL_DATA, CAROL_SUPPORT = "CAROL-OWN-VALUE-5523", "CAROL-OWN-DATA-5524", "CAROL-OWN-SUPPORT-5525"
CAROL = (CAROL_NOTE, CAROL_REASON, CAROL_VALUE, CAROL_DATA, CAROL_SUPPORT)


@dataclass
class Blinded:
    seed: Any
    review_id: int
    analysis_id: int
    conflict_title: str  # the record carol and erin disagree on, unresolved


def _decide(user: Any, review_id: int, record: Record, decision: str, reason: str = "", note: str = "") -> None:
    screening_services.decision_create(
        user=user, review_id=review_id, record_id=record.pk, stage=TA, decision=decision, reason=reason, note=note
    )
    screening_services.outcome_evaluate(record_id=record.pk, stage=TA)


@pytest.fixture
def blinded(cast, ketamine) -> Blinded:
    """The ketamine review (consensus data, RoB 1 consensus, analyses) with four screened records, carol's and
    erin's own extractions and assessments, an editor's consensus with markers, and a certainty rating."""
    seed, review, carol, erin_, bob = ketamine, ketamine.review, cast.carol, cast.erin, cast.bob
    rid = review.pk
    batch = Import.objects.create(
        review=review, source="MEDLINE (Ovid)", source_kind="database", filename="medline.ris", size=100,
        content_hash="cd" * 32, status=Import.Status.SUCCEEDED, records_found=4, records_added=4,
        searched_on=timezone.now().date(), created_by=cast.alice,
    )  # fmt: skip
    Record.objects.bulk_create(
        Record(review=review, batch=batch, position=i, title=f"Ketamine trial {i}", abstract="Pain.", year=1990 + i)
        for i in range(1, 5)
    )
    records = list(Record.objects.filter(batch=batch).order_by("id"))
    # 1: in conflict, unresolved. 2: in conflict, resolved by bob with a reason. 3: erin's only. 4: carol's only.
    _decide(carol, rid, records[0], "include", note=CAROL_NOTE)
    _decide(erin_, rid, records[0], "exclude", reason=ERIN_REASON, note=ERIN_NOTE)
    _decide(carol, rid, records[1], "include")
    _decide(erin_, rid, records[1], "exclude", reason=ERIN_REASON)
    conflict = Outcome.objects.get(record=records[1], stage=TA)
    screening_services.conflict_resolve(
        user=bob, review_id=rid, conflict_id=conflict.pk, decision="exclude", reason=RESOLUTION
    )
    _decide(erin_, rid, records[2], "include", note=ERIN_NOTE)
    _decide(carol, rid, records[3], "exclude", reason=CAROL_REASON)
    assert Outcome.objects.get(record=records[0], stage=TA).status == Outcome.Status.CONFLICT

    for who, value, note in ((carol, CAROL_VALUE, CAROL_DATA), (erin_, ERIN_VALUE, ERIN_DATA)):
        extraction = E.extraction_start(user=who, review_id=rid, study_id=seed.yang.pk)
        E.extraction_save(
            user=who, review_id=rid, extraction_id=extraction.pk, version=None,
            values={"participants_condition": value},
        )  # fmt: skip
        E.outcome_data_save(
            user=who, review_id=rid, extraction_id=extraction.pk, version=None,
            rows=[{**pain(seed, 3.1, 2.0, 20, 3.8, 2.1, 20), "note": note}],
        )  # fmt: skip
    consensus = E.consensus_start(user=bob, review_id=rid, study_id=seed.yang.pk)
    E.extraction_save(
        user=bob, review_id=rid, extraction_id=consensus.pk, version=None,
        values={"participants_condition": CONSENSUS_VALUE},
    )  # fmt: skip
    E.outcome_data_save(
        user=bob, review_id=rid, extraction_id=consensus.pk, version=None,
        rows=[{**pain(seed, 3.0, 2.0, 20, 3.9, 2.1, 20), "note": CONSENSUS_DATA}],
    )  # fmt: skip

    for who, support in ((carol, CAROL_SUPPORT), (erin_, ERIN_SUPPORT)):
        assessment = rob_services.assessment_start(user=who, review_id=rid, study_id=seed.yang.pk)
        rob_services.judgement_save(
            user=who, review_id=rid, assessment_id=assessment.pk, version=assessment.version,
            domain="random_sequence", judgement="low" if who == carol else "high", support=support,
        )  # fmt: skip
    agreed = RobAssessment.objects.get(review=review, study=seed.yang, assessor__isnull=True, outcome__isnull=True)
    rob_services.judgement_save(
        user=bob, review_id=rid, assessment_id=agreed.pk, version=agreed.version, domain="random_sequence",
        judgement="unclear", support=CONSENSUS_SUPPORT,
    )  # fmt: skip
    # Discrepancies name each reviewer's value: erin's is in them too.
    X.Discrepancy.objects.create(
        review=review, study=seed.yang, form=seed.form, key="field:participants_condition",
        label="Condition", values={"carol": CAROL_VALUE, "erin": ERIN_VALUE},
    )  # fmt: skip
    G.RobDiscrepancy.objects.create(
        review=review, study=seed.yang, domain="random_sequence", values={"carol": "low", "erin": ERIN_SUPPORT}
    )
    accept_proposals(cast, seed, view_of(cast, seed, seed.pain))
    for setting in (screening_selectors.settings_for(review), extraction_selectors.settings_for(review)):
        assert setting.blinded, "the defaults blind every stage; this test relies on it"
    assert rob_services.settings_for(review).blinded
    analysis = Analysis.objects.filter(review=review, outcome=seed.pain).order_by("id").first()
    assert analysis is not None
    return Blinded(seed, rid, analysis.pk, records[0].title)


def unblind(review_id: int, *, keep: str = "") -> None:
    """Nothing blinded any more, except the stage named in `keep` (screening, extraction, risk_of_bias)."""
    from grading.models import RobSettings
    from screening.models import ScreeningSettings

    stages = {"screening": ScreeningSettings, "extraction": X.ExtractionSettings, "risk_of_bias": RobSettings}
    assert not keep or keep in stages
    for stage, model in stages.items():
        if stage != keep:
            assert model.objects.filter(review_id=review_id).update(blinded=False) == 1


# --- reading a download as text -----------------------------------------------------------------------------------


def body_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def text_of(fmt: str, body: bytes) -> str:
    """The text a member can read in the file: decoded text formats as they are (markup and attributes
    included, a superset of what is shown); a DOCX's paragraphs and table cells, and every XML part of it (headers,
    footnotes); nothing from a PNG, which holds no text chunk (checked)."""
    if fmt == "png":
        return png_text(body)
    if fmt == "docx":
        document = docx.Document(io.BytesIO(body))
        parts = [p.text for p in document.paragraphs]
        parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        return "\n".join(parts)
    return body.decode("utf-8")


def png_text(body: bytes) -> str:
    """The text chunks of a PNG (tEXt, zTXt, iTXt: the title and software matplotlib writes), the only text a
    PNG carries."""
    assert body[:8] == b"\x89PNG\r\n\x1a\n", f"not a PNG: {body[:40]!r}"
    texts, at = [], 8
    while at < len(body):
        length, kind = int.from_bytes(body[at : at + 4], "big"), body[at + 4 : at + 8]
        data = body[at + 8 : at + 8 + length]
        if kind == b"tEXt":
            texts.append(data.replace(b"\0", b" ").decode("latin-1"))
        elif kind == b"zTXt":
            keyword, _, rest = data.partition(b"\0")
            texts.append(keyword.decode("latin-1") + " " + zlib.decompress(rest[1:]).decode("latin-1"))
        elif kind == b"iTXt":
            keyword, _, rest = data.partition(b"\0")
            compressed, rest = rest[0], rest[2:]
            _language, _, rest = rest.partition(b"\0")
            _translated, _, text = rest.partition(b"\0")
            texts.append(keyword.decode("latin-1") + " " + (zlib.decompress(text) if compressed else text).decode())
        at += 12 + length
    return "\n".join(texts)


def conflict_statuses(fmt: str, name: str, text: str) -> list[str]:
    """Where the file says that a record is in conflict (records, JSON); empty for files without records."""
    found = []
    if name.startswith("records-csv"):
        for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
            found += [
                f"{row['title']}: {c}" for c in ("title_abstract_status", "full_text_status") if row[c] == "conflict"
            ]
    elif name.startswith("records-ris"):
        found += [line for line in text.splitlines() if line[:2] in ("C3", "C4") and "conflict" in line]
        found += [line for line in text.splitlines() if line.startswith("N1") and ": conflict" in line]
    elif fmt == "json" and name == "review-json":
        document = orjson.loads(text)
        found += [
            f"outcome {o['id']}: {o['status']}" for o in document["screening_outcomes"] if o["status"] == "conflict"
        ]
    return found


# --- every download -------------------------------------------------------------------------------------------------

Url = Callable[[Blinded], str]


@dataclass(frozen=True)
class Download:
    name: str
    url: Url
    fmt: str
    api: bool  # an API endpoint (401 for anonymous) or a page (the login page)
    blinded_carol: int  # carol's status while everything is blinded
    open_carol: int  # carol's status once nothing is blinded
    carries: tuple[str, ...] = ()  # the markers an editor's file holds
    own: tuple[str, ...] = ()  # carol's own markers her blinded file holds
    shows: str = ""  # text every readable file holds, where no marker is carried
    editors: int = 200  # the editors' status (a funnel plot of four studies is refused to anyone)


def _api(name: str, *args: str, query: str = "") -> Url:
    def url(b: Blinded) -> str:
        ids = {"review": b.review_id, "analysis": b.analysis_id}
        return reverse(name, args=[ids[a] for a in args]) + query

    return url


_page = _api  # the same reverse; the name says which client fetches it (`Download.api`)


R, A = "review", "analysis"
TITLE = "Risk of bias (Cochrane RoB 1)"  # the plots' title, in the SVG text and the PNG's text chunk
SCREENING = (ERIN_REASON, RESOLUTION, CAROL_REASON)
DOWNLOADS = [
    Download("records-csv", _api("api-export-csv", R), "csv", True, 200, 200, SCREENING, (CAROL_REASON,)),
    Download(
        "records-csv-ta",
        _api("api-export-csv", R, query="?stage=title_abstract"),
        "csv",
        True,
        200,
        200,
        SCREENING,
        (CAROL_REASON,),
        "Ketamine trial 4",
    ),  # fmt: skip
    # Which records are in conflict is not a blinded reviewer's to filter by (400, saying why).
    Download(
        "records-csv-conflict",
        _api("api-export-csv", R, query="?stage=title_abstract&status=conflict"),
        "csv",
        True,
        400,
        200,
        (),
        (),
        "Ketamine trial 1",
    ),  # fmt: skip
    Download(
        "records-ris-conflict",
        _api("api-export-ris", R, query="?stage=title_abstract&status=conflict"),
        "ris",
        True,
        400,
        200,
        (),
        (),
        "Ketamine trial 1",
    ),  # fmt: skip
    Download("records-ris", _api("api-export-ris", R), "ris", True, 200, 200, SCREENING, (CAROL_REASON,)),
    Download("review-json", _api("api-export-json", R), "json", True, 200, 200, ERIN + CONSENSUS + CAROL, CAROL),
    Download("rm5", _api("api-export-rm5", R), "xml", True, 403, 200, (CONSENSUS_VALUE, CONSENSUS_SUPPORT)),
    *(
        Download(
            f"extraction-{kind}-{where}",
            builder,
            "csv",
            where == "api",
            200 if kind != "consensus" else 403,
            200,
            carries,
            own,
        )
        for kind, carries, own in (
            ("consensus", (CONSENSUS_VALUE,), ()),
            ("raw", (ERIN_VALUE, CAROL_VALUE), (CAROL_VALUE,)),
            ("outcome_data", (ERIN_DATA, CONSENSUS_DATA, CAROL_DATA), (CAROL_DATA,)),
        )
        for where, builder in (
            ("api", _api("api-extraction-export", R, query=f"?kind={kind}")),
            ("page", lambda b, kind=kind: reverse("extraction:export", args=[b.review_id, kind])),
        )
    ),
    *(
        Download(
            f"sof-api-{fmt}",
            _api("api-summary-of-findings", R, query=f"?format={fmt}"),
            fmt,
            True,
            403,
            200,
            shows="Pain intensity",
        )  # fmt: skip
        for fmt in ("json", "csv", "html", "docx")
    ),
    *(
        Download(
            f"sof-page-{fmt}",
            _page("certainty:sof", R, query=f"?format={fmt}"),
            fmt,
            False,
            403,
            200,
            shows="Pain intensity",
        )  # fmt: skip
        for fmt in ("csv", "html", "docx")
    ),
    *(
        Download(
            f"rob-{plot}-page-{fmt}", _page(f"rob:{plot}", R, query=f"?format={fmt}"), fmt, False, 403, 200, shows=TITLE
        )  # fmt: skip
        for plot in ("traffic_light", "summary_bar")
        for fmt in ("svg", "png")
    ),
    *(
        Download(
            f"rob-{plot}-api-{fmt}", _api(f"api-rob-{plot}-{fmt}", R), fmt, True, 403, 200, shows=TITLE
        )  # fmt: skip
        for plot in ("traffic-light", "summary")
        for fmt in ("svg", "png")
    ),
    Download("prisma-api-json", _api("api-prisma", R), "json", True, 403, 403, shows="MEDLINE (Ovid)"),
    Download("prisma-api-svg", _api("api-prisma-svg", R), "svg", True, 403, 403, shows="PRISMA"),
    Download("prisma-api-png", _api("api-prisma-png", R), "png", True, 403, 403),
    Download(
        "prisma-page-svg", _page("screening:prisma", R, query="?download=svg"), "svg", False, 403, 403, shows="PRISMA"
    ),  # fmt: skip
    Download("prisma-page-png", _page("screening:prisma", R, query="?download=png"), "png", False, 403, 403),
    *(
        Download(
            f"forest-api-{fmt}",
            _api(f"api-analysis-forest-{fmt}", R, A),
            fmt,
            True,
            403,
            200,
            shows="Yang 1996" if fmt == "svg" else "",
        )  # fmt: skip
        for fmt in ("svg", "png")
    ),
    *(
        Download(f"funnel-api-{fmt}", _api(f"api-analysis-funnel-{fmt}", R, A), fmt, True, 403, 404, editors=404)
        for fmt in ("svg", "png")
    ),
    Download("export-page", _page("exports:page", R), "html", False, 200, 200, shows="Download RIS"),
]
BY_NAME = {d.name: d for d in DOWNLOADS}
assert len(BY_NAME) == len(DOWNLOADS), "download names must be unique"


def fetch(who: str, download: Download, blinded: Blinded, api: Any, web: Any) -> Any:
    client = api(who) if download.api else web(who)
    return client.get(download.url(blinded))


REASONS = {400: ("blind",), 403: ("blind", "role"), 404: ("needs at least",)}


def assert_refused_with_reason(response: Any, download: Download) -> None:
    """A refusal says why: the API in its JSON, a page in the rendered 403 page."""
    text = body_of(response).decode("utf-8", "replace")
    reason = str(orjson.loads(text)) if download.api else text
    assert any(word in reason.lower() for word in REASONS[response.status_code]), (
        f"{download.name}: {response.status_code} without its reason: {reason[:300]}"
    )


def assert_nothing_of_others(who: str, download: Download, text: str, blinded: Blinded) -> None:
    leaked = [m for m in ERIN + CONSENSUS if m in text]
    assert not leaked, f"{download.name} as {who} leaks {leaked}"
    conflicts = conflict_statuses(download.fmt, download.name, text)
    assert not conflicts, f"{download.name} as {who} says which records are in conflict: {conflicts}"


@pytest.mark.parametrize("download", DOWNLOADS, ids=lambda d: d.name)
def test_blinded_reviewer_gets_nothing_of_others(cast, blinded, api, web, download):
    response = fetch("carol", download, blinded, api, web)
    assert response.status_code == download.blinded_carol, (download.name, body_of(response)[:300])
    if response.status_code != 200:
        assert_refused_with_reason(response, download)
        return
    text = text_of(download.fmt, body_of(response))
    assert_nothing_of_others("carol", download, text, blinded)
    missing = [m for m in download.own if m not in text]
    assert not missing, f"{download.name}: carol's own {missing} missing from her file"
    assert download.shows in text


@pytest.mark.parametrize("download", DOWNLOADS, ids=lambda d: d.name)
def test_editors_get_everything_the_format_carries(cast, blinded, api, web, download):
    for who in ("alice", "bob"):
        response = fetch(who, download, blinded, api, web)
        assert response.status_code == download.editors, (download.name, who, body_of(response)[:300])
        if response.status_code != 200:
            assert_refused_with_reason(response, download)
            continue
        text = text_of(download.fmt, body_of(response))
        missing = [m for m in download.carries if m not in text]
        assert not missing, f"{download.name} as {who}: {missing} missing (so the blinded check could not fail)"
        assert download.shows in text


def test_editors_records_export_says_which_record_is_in_conflict(cast, blinded, api):
    """The conflict check of the blinded test can fail: the editors' files do name the conflict."""
    for name in ("records-csv", "records-ris"):
        download = BY_NAME[name]
        text = text_of(download.fmt, body_of(fetch("bob", download, blinded, api, None)))
        assert conflict_statuses(download.fmt, name, text), name
    text = body_of(fetch("bob", BY_NAME["review-json"], blinded, api, None)).decode()
    assert conflict_statuses("json", "review-json", text)


def test_blinded_reviewers_records_show_her_own_decision_on_the_conflict(cast, blinded, api):
    response = fetch("carol", BY_NAME["records-csv"], blinded, api, None)
    rows = {r["title"]: r for r in csv.DictReader(io.StringIO(body_of(response).decode("utf-8-sig")))}
    assert rows[blinded.conflict_title]["title_abstract_status"] == "included"  # carol's, not "conflict"
    assert rows[blinded.conflict_title]["title_abstract_decisions"] == "carol: include"
    assert rows["Ketamine trial 2"]["title_abstract_status"] == "included"  # not bob's resolution (excluded)
    assert rows["Ketamine trial 3"]["title_abstract_status"] == "undecided"  # erin's include is not hers
    assert {r["own_decisions_only"] for r in rows.values()} == {"true"}


def test_outsider_gets_404_and_anonymous_401_or_the_login_page(cast, blinded, api, web):
    wrong = []
    for download in DOWNLOADS:
        outsider = fetch("dave", download, blinded, api, web)
        if outsider.status_code != 404:
            wrong.append(f"{download.name}: dave got {outsider.status_code}")
        anonymous = fetch("anonymous", download, blinded, api, web)
        if download.api and anonymous.status_code != 401:
            wrong.append(f"{download.name}: anonymous got {anonymous.status_code}, not 401")
        login = reverse("login")
        if not download.api and not (anonymous.status_code == 302 and anonymous["Location"].startswith(login)):
            wrong.append(f"{download.name}: anonymous got {anonymous.status_code}, not a redirect to {login}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("download", DOWNLOADS, ids=lambda d: d.name)
def test_once_nothing_is_blinded_the_reviewer_gets_what_the_editors_get(cast, blinded, api, web, download):
    unblind(blinded.review_id)
    response = fetch("carol", download, blinded, api, web)
    assert response.status_code == download.open_carol, (download.name, body_of(response)[:300])
    if response.status_code != 200:
        assert_refused_with_reason(response, download)
        return
    text = text_of(download.fmt, body_of(response))
    missing = [m for m in download.carries if m not in text]
    assert not missing, f"{download.name} as carol, nothing blinded: {missing} missing"
    assert download.shows in text


def test_export_page_offers_carol_only_what_she_may_download(cast, blinded, web):
    """The Export page links a download only to those who may have it: while blinded, carol's page links none
    of the downloads refused to her; once nothing is blinded, it links them."""
    refused = [d for d in DOWNLOADS if d.blinded_carol != 200 and not d.api and d.name.startswith(("sof", "rob"))]
    page = web("carol").get(reverse("exports:page", args=[blinded.review_id])).content.decode()
    linked = [d.name for d in refused if d.url(blinded).replace("&", "&amp;") in page]
    assert not linked, f"carol's blinded Export page links downloads refused to her: {linked}"
    unblind(blinded.review_id)
    page = web("carol").get(reverse("exports:page", args=[blinded.review_id])).content.decode()
    missing = [d.name for d in refused if d.url(blinded).replace("&", "&amp;") not in page]
    assert not missing, f"carol's Export page, nothing blinded, lacks {missing}"


# The markers of each stage's blinded work: still blinded, that stage's must stay out of every file carol gets.
STAGE_MARKERS = {
    "screening": (ERIN_NOTE, ERIN_REASON, RESOLUTION),
    "extraction": (ERIN_VALUE, ERIN_DATA, CONSENSUS_VALUE, CONSENSUS_DATA),
    "risk_of_bias": (ERIN_SUPPORT, CONSENSUS_SUPPORT),
}


@pytest.mark.parametrize("stage", list(STAGE_MARKERS))
def test_one_stage_still_blinded_keeps_its_work_out_of_every_file(cast, blinded, api, web, stage):
    """Files that mix stages (JSON, RevMan 5, Summary of Findings, plots) follow the strictest of their stages:
    with only one stage still blinded, none of carol's downloads holds that stage's markers (or, for screening,
    a conflict), and the files of the other stages hold theirs (so that she does get something)."""
    unblind(blinded.review_id, keep=stage)
    leaks, readable, seen = [], [], set()
    for download in DOWNLOADS:
        response = fetch("carol", download, blinded, api, web)
        if response.status_code != 200:
            continue
        readable.append(download.name)
        text = text_of(download.fmt, body_of(response))
        leaks += [f"{download.name}: {m}" for m in STAGE_MARKERS[stage] if m in text]
        if stage == "screening":
            leaks += [f"{download.name}: {c}" for c in conflict_statuses(download.fmt, download.name, text)]
        seen |= {m for m in ERIN + CONSENSUS if m in text}
    assert not leaks, f"with {stage} still blinded, carol's files hold {leaks}"
    others = {m for other, markers in STAGE_MARKERS.items() if other != stage for m in markers}
    assert others <= seen, f"with only {stage} blinded, carol's files lack {sorted(others - seen)} ({readable})"
