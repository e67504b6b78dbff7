"""The review's records with their screening state, streamed as RIS (for reference managers and for Sieve itself)
or as CSV (for spreadsheets).

Who sees what follows screening's blinding (`screening.selectors.sees_all`): an owner or editor, or anyone once
screening is not blinded, gets each record's outcome per stage and every reviewer's decision; a reviewer while
blinded gets only their own decisions, and the status of a record at a stage is then their own decision (never
the outcome, never whether it is in conflict).

Records: every record of the review's succeeded imports, duplicates included (a duplicate says which record it
duplicates), in id order. Filters: `stage` alone keeps the records screened at that stage (status included,
excluded, maybe, conflict or undecided there); `stage` and `status` keep those with that status at that stage;
`status=duplicate` needs no stage. Statuses (`STATUSES`), per stage:

- `included`, `excluded`, `maybe`: the outcome (settled by agreement or resolved by the editor); for a blinded
  reviewer, their own decision;
- `conflict`: the reviewers disagree and the editor has not resolved it (not offered to a blinded reviewer);
- `undecided`: screened at this stage but no outcome yet (blinded reviewer: not decided by them yet);
- `not_retrieved` (full text only): passed title/abstract, but its report could not be obtained;
- `not_screened` (full text only): did not reach full text (excluded or still open at title/abstract);
- `duplicate`: a duplicate of another record, screened through that one.

RIS (one record per `TY  - ` … `ER  - ` block, UTF-8 without a BOM, which would hide the first record from
rispy). The normalized fields go in the tags that Sieve's importer (`reviews/importers/ris.py`) reads back to
the same values, and that rispy, Zotero and EndNote know:

    TY   type: the RIS code when `publication_type` is one of the RIS labels ("Journal Article" → JOUR); else
         JOUR (a record with a journal) or GEN, with the type in M3, which Sieve reads before TY (Scopus and
         Embase put their document type there too); a type M3 cannot carry (digits, `;`, over 40 characters) is
         written as TY itself. A record without a type gets GEN, and comes back as "Generic".
    TI   title               AU  one per author          PY  year         T2  journal (what EndNote and Zotero
    VL   volume              IS  issue                   SP/EP pages      write for a journal article's journal)
    DO   DOI                 UR  link                    LA  language     KW  one per keyword
    AB   abstract, a paragraph per line (continuation lines); a paragraph that would read as a tag line gets an
         `AB  - ` of its own, which Sieve joins back with a newline (rispy and Zotero keep the first AB only)
    AN   `PMID: 12345678`: the prefix makes Sieve read it as the PubMed id whatever the source database
    ID   Sieve's record id, to trace a row back (rispy `id`, Zotero's item id)
    N1   notes (rispy, Zotero, EndNote keep every N1): first `Trial registration: NCT01234567` when the record
         has a registry id (Sieve looks there before any other note), then a sentence with the screening, e.g.
         `Sieve record 12. Screening: title/abstract: included [alice: include; bob: maybe]; full text:
         excluded, reason: Wrong population [alice: exclude (Wrong population); bob: exclude (Wrong
         population)].` A blinded reviewer's says `Your screening (blinded: your own decisions only)`.
    C1   the Sieve id of the record this one duplicates (duplicates only)
    C3   title/abstract status    C4  full-text status    C8  exclusion reason (of the stage that excluded it)

C1, C3, C4 and C8 are free "Custom" fields of a journal article in EndNote and land in Zotero's notes; C2
(PMCID) and C5/C7 (read as PubMed ids or article numbers by databases and reference managers) are left alone,
and no DB/DP tag is written, since with one Sieve would take ID or AN digits for a PubMed id. Values never hold
a line break (single-line fields are whitespace-joined).

What does not come back identically through Sieve's importer: an empty publication type ("Generic"), an author
name that Sieve's RIS reader takes for a list (two or more commas, as "Smith, John, Jr."), a keyword holding
a `;` (split, as in any RIS file), a link without
http(s)/ftp, a year outside 1500-2199, a registry id that Sieve's registry patterns do not recognise; and a
record without a registry id whose exclusion reason names one.

CSV (`CSV_COLUMNS`, UTF-8 with a BOM, formula-safe cells through `core.csv_safe`): one row per record; lists
(authors, keywords) joined with `; `; decisions as `alice: include; bob: exclude (Wrong population)`;
`own_decisions_only` is `true` in a blinded reviewer's export.

Reading is in keyset pages of `PAGE` records (four queries a page: records, outcomes, decisions, reports not
retrieved), so an export of any size streams in constant memory and starts at once."""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import StreamingHttpResponse

from core.csv_safe import csv_lines
from reviews.importers.base import find_registry_id
from reviews.importers.ris import TYPE_LABELS
from reviews.models import Import, Record, Review
from screening.models import Choice, Decision, FullText, Outcome, Stage
from screening.selectors import sees_all

AnyUser = User | AnonymousUser

PAGE = 1000
RIS_MEDIA_TYPE = "application/x-research-info-systems"

INCLUDED, EXCLUDED, MAYBE, CONFLICT = "included", "excluded", "maybe", "conflict"
UNDECIDED, NOT_RETRIEVED, NOT_SCREENED, DUPLICATE = "undecided", "not_retrieved", "not_screened", "duplicate"
STATUSES = (INCLUDED, EXCLUDED, MAYBE, CONFLICT, UNDECIDED, NOT_RETRIEVED, NOT_SCREENED, DUPLICATE)
STAGE_STATUSES: dict[str, tuple[str, ...]] = {
    Stage.TITLE_ABSTRACT.value: (INCLUDED, EXCLUDED, MAYBE, CONFLICT, UNDECIDED, DUPLICATE),
    Stage.FULL_TEXT.value: STATUSES,
}
STATUS_CHOICES = [
    (INCLUDED, "Included"),
    (EXCLUDED, "Excluded"),
    (MAYBE, "Maybe"),
    (CONFLICT, "In conflict"),
    (UNDECIDED, "Not decided yet"),
    (NOT_RETRIEVED, "Report not retrieved (full text)"),
    (NOT_SCREENED, "Did not reach full text"),
    (DUPLICATE, "Duplicate"),
]
# The statuses of the records screened at a stage (what `stage` alone keeps).
SCREENED = (INCLUDED, EXCLUDED, MAYBE, CONFLICT, UNDECIDED)
CHOICE_STATUS = {Choice.INCLUDE: INCLUDED, Choice.EXCLUDE: EXCLUDED, Choice.MAYBE: MAYBE}
STAGES = (Stage.TITLE_ABSTRACT.value, Stage.FULL_TEXT.value)  # `Stage.values` is rebuilt on each use
STAGE_LABELS = {Stage.TITLE_ABSTRACT.value: "title/abstract", Stage.FULL_TEXT.value: "full text"}

CSV_COLUMNS = [
    "record_id", "duplicate_of", "source", "title", "abstract", "authors", "year", "journal", "volume", "issue",
    "pages", "doi", "pmid", "registry_id", "keywords", "url", "language", "publication_type",
    "title_abstract_status", "title_abstract_reason", "title_abstract_decisions",
    "full_text_status", "full_text_reason", "full_text_decisions",
    "exclusion_reason", "own_decisions_only",
]  # fmt: skip

_FIELDS = (
    "id", "duplicate_of_id", "batch__source", "title", "abstract", "authors", "year", "journal", "volume", "issue",
    "pages", "doi", "pmid", "registry_id", "keywords", "url", "language", "publication_type",
)  # fmt: skip


@dataclass(slots=True)
class StageScreening:
    """A record's screening at one stage as the member may see it."""

    status: str
    reason: str = ""
    decisions: tuple[tuple[str, str, str], ...] = ()  # (username, decision, reason), by username


@dataclass(slots=True)
class ExportRecord:
    """A record's normalized fields and its screening, ready to write (no Django object: `ris_lines` and
    `csv_rows` are pure)."""

    id: int
    duplicate_of: int | None
    source: str
    title: str
    abstract: str
    authors: list[str]
    year: int | None
    journal: str
    volume: str
    issue: str
    pages: str
    doi: str
    pmid: str
    registry_id: str
    keywords: list[str]
    url: str
    language: str
    publication_type: str
    title_abstract: StageScreening
    full_text: StageScreening
    own_decisions_only: bool = False

    def stage(self, stage: str) -> StageScreening:
        return self.title_abstract if stage == Stage.TITLE_ABSTRACT else self.full_text

    @property
    def exclusion_reason(self) -> str:
        """The reason given at the stage that excluded the record (a record is excluded at one stage at most)."""
        for screening in (self.title_abstract, self.full_text):
            if screening.status == EXCLUDED:
                return screening.reason
        return ""


# --- reading ----------------------------------------------------------------------------------------------------


def check_filters(*, stage: str, status: str, blinded: bool) -> None:
    """ValidationError naming the valid choices when the filters make no sense (checked before streaming)."""
    errors: dict[str, str] = {}
    if stage and stage not in Stage.values:
        errors["stage"] = f"No stage “{stage}”; choose one of {', '.join(Stage.values)}."
    elif status:
        choices = STAGE_STATUSES[Stage(stage)] if stage else STATUSES
        if blinded:
            choices = tuple(s for s in choices if s != CONFLICT)
        if status not in STATUSES:
            errors["status"] = f"No status “{status}”; choose one of {', '.join(choices)}."
        elif not stage and status != DUPLICATE:
            errors["status"] = f"Name the stage of status “{status}”: add stage={' or stage='.join(Stage.values)}."
        elif status not in choices:
            why = (
                "while screening is blinded a reviewer's export holds only their own decisions, not conflicts"
                if status == CONFLICT and blinded
                else f"there is no status “{status}” at {STAGE_LABELS[Stage(stage)]}"
            )
            errors["status"] = f"{why.capitalize()}; choose one of {', '.join(choices)}."
    if errors:
        raise ValidationError(errors)


def export_records(
    *, review: Review, user: AnyUser, stage: str = "", status: str = "", page: int = PAGE
) -> Iterator[ExportRecord]:
    """The records the member exports, with their screening as they may see it (review.my_role is set, as by
    review_get_for_user). The filters are checked now (ValidationError); the records are read page by page as
    they are consumed."""
    everything = sees_all(review)
    check_filters(stage=stage, status=status, blinded=not everything)
    records = Record.objects.filter(review=review, batch__status=Import.Status.SUCCEEDED)
    if stage or status:
        records = records.filter(_status_filter(user, stage, status, everything))
    return _read(user, records, everything, page)


def _status_filter(user: AnyUser, stage: str, status: str, everything: bool) -> Q:
    """The SQL twin of `_screening`: the records with that status at that stage (`stage` alone: screened there)."""
    if status == DUPLICATE:
        return Q(duplicate_of__isnull=False)
    known: QuerySet[Any]
    if everything:
        known = Outcome.objects.filter(record=OuterRef("pk"), stage=stage)
    else:
        known = Decision.objects.filter(record=OuterRef("pk"), stage=stage, reviewer=cast(User, user))
    passed = Exists(
        Outcome.objects.filter(
            record=OuterRef("pk"), stage=Stage.TITLE_ABSTRACT, decision__in=[Choice.INCLUDE, Choice.MAYBE]
        )
    )
    gone = Exists(FullText.objects.filter(record=OuterRef("pk"), not_retrieved=True))
    not_dup = Q(duplicate_of__isnull=True)
    reached = Q() if stage == Stage.TITLE_ABSTRACT else passed & ~gone
    if not status:  # the records screened at the stage: decided there, or waiting there
        return not_dup & (Q(Exists(known)) | reached) if stage == Stage.FULL_TEXT else not_dup
    by_status: dict[str, Any] = {
        INCLUDED: Exists(known.filter(decision=Choice.INCLUDE)),
        EXCLUDED: Exists(known.filter(decision=Choice.EXCLUDE)),
        MAYBE: Exists(known.filter(decision=Choice.MAYBE)),
        # check_filters offers no conflict to a blinded reviewer
        CONFLICT: Exists(Outcome.objects.filter(record=OuterRef("pk"), stage=stage, status=Outcome.Status.CONFLICT)),
        UNDECIDED: ~Exists(known) & reached,
        NOT_RETRIEVED: ~Exists(known) & passed & gone,
        NOT_SCREENED: ~Exists(known) & ~passed,
    }
    return not_dup & Q(by_status[status])


def _read(user: AnyUser, records: QuerySet[Record], everything: bool, size: int) -> Iterator[ExportRecord]:
    last = 0
    while True:
        page = _page(user, records.filter(id__gt=last), everything, size)
        yield from page
        if len(page) < size:
            return
        last = page[-1].id
        del page  # before the next page is read: one page in memory at a time, not two


def _page(user: AnyUser, records: QuerySet[Record], everything: bool, size: int) -> list[ExportRecord]:
    """The next `size` records with their screening, in four queries."""
    rows = list(records.order_by("id").values(*_FIELDS)[:size])
    if not rows:
        return []
    # The page's ids as a subquery: a list of a thousand ids costs Django more to prepare than the query takes.
    # Outcomes, decisions and reports are looked up by record alone (the records are the review's): through the
    # record index, where a review filter led SQLite to scan the whole review's rows for every page.
    ids = records.order_by("id").values("id")[:size]
    outcomes: dict[tuple[int, str], tuple[str, str, str]] = {
        (record_id, stage): (status, decision, reason)
        for record_id, stage, status, decision, reason in Outcome.objects.filter(record_id__in=ids)
        .order_by()
        .values_list("record_id", "stage", "status", "decision", "reason")
    }
    decisions = Decision.objects.filter(record_id__in=ids)
    if not everything:
        decisions = decisions.filter(reviewer=cast(User, user))
    seen: dict[tuple[int, str], list[tuple[str, str, str]]] = {}
    for record_id, stage, username, decision, reason in decisions.order_by(
        "record_id", "stage", "reviewer__username"
    ).values_list("record_id", "stage", "reviewer__username", "decision", "reason"):
        seen.setdefault((record_id, stage), []).append((username, decision, reason))
    gone = set(
        FullText.objects.filter(record_id__in=ids, not_retrieved=True).order_by().values_list("record_id", flat=True)
    )
    page = []
    for row in rows:
        record_id = row["id"]
        passed = outcomes.get((record_id, Stage.TITLE_ABSTRACT), ("", "", ""))[1] in (Choice.INCLUDE, Choice.MAYBE)
        screening = {
            stage: _screening(
                stage,
                duplicate=row["duplicate_of_id"] is not None,
                outcome=outcomes.get((record_id, stage)),
                decisions=seen.get((record_id, stage), []),
                passed=passed,
                gone=record_id in gone,
                everything=everything,
            )
            for stage in STAGES
        }
        page.append(
            ExportRecord(
                id=record_id,
                duplicate_of=row["duplicate_of_id"],
                source=row["batch__source"],
                title=row["title"],
                abstract=row["abstract"],
                authors=list(row["authors"] or []),
                year=row["year"],
                journal=row["journal"],
                volume=row["volume"],
                issue=row["issue"],
                pages=row["pages"],
                doi=row["doi"],
                pmid=row["pmid"],
                registry_id=row["registry_id"],
                keywords=list(row["keywords"] or []),
                url=row["url"],
                language=row["language"],
                publication_type=row["publication_type"],
                title_abstract=screening[Stage.TITLE_ABSTRACT],
                full_text=screening[Stage.FULL_TEXT],
                own_decisions_only=not everything,
            )
        )
    return page


def _screening(
    stage: str,
    *,
    duplicate: bool,
    outcome: tuple[str, str, str] | None,
    decisions: list[tuple[str, str, str]],
    passed: bool,
    gone: bool,
    everything: bool,
) -> StageScreening:
    """A record's status at a stage (`_status_filter` selects the same in SQL). `decisions` are those the member
    may see: everyone's, or only their own while blinded, when the outcome is not theirs to see either."""
    shown = tuple(decisions)
    if duplicate:
        return StageScreening(DUPLICATE, "", shown)
    if everything and outcome is not None:
        status, decision, reason = outcome
        if status == Outcome.Status.CONFLICT:
            return StageScreening(CONFLICT, "", shown)
        return StageScreening(CHOICE_STATUS[Choice(decision)], reason, shown)
    if not everything and decisions:
        _, decision, reason = decisions[0]
        return StageScreening(CHOICE_STATUS[Choice(decision)], reason, shown)
    if stage == Stage.TITLE_ABSTRACT:
        return StageScreening(UNDECIDED, "", shown)
    if not passed:
        return StageScreening(NOT_SCREENED, "", shown)
    return StageScreening(NOT_RETRIEVED if gone else UNDECIDED, "", shown)


# --- RIS --------------------------------------------------------------------------------------------------------

# RIS codes by label; "Personal Communication" is both ICOMM and PCOMM: either reads back the same.
TYPE_CODES = {label: code for code, label in TYPE_LABELS.items()}
# What Sieve's importer takes from M3 as a document type (reviews/importers/ris.py `_DOC_TYPE_RE`).
_M3_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z ,&/-]{1,39}")
# A line that some RIS reader would take for a tag: rispy and Sieve ("AB  -"), Zotero ("AB -"), Sieve's loose
# tags ("PMID - "). A superset of each, so that an abstract's paragraph is never misread.
_TAG_LIKE_RE = re.compile(r"[A-Z][A-Z0-9]{1,4} {1,3}-")
# Registry ids that Sieve's patterns find only in their mixed case (it stores them upper-cased).
_MIXED_CASE_REGISTRY = (("CHICTR", "ChiCTR"), ("JRCT", "jRCT"))


def ris_lines(records: Iterable[ExportRecord]) -> Iterator[str]:
    """Each record as its RIS block (lines ending in a newline, a blank line after `ER  - `)."""
    for record in records:
        yield "\n".join(_ris_tags(record)) + "\nER  - \n\n"


def _one_line(value: str) -> str:
    return " ".join(value.split()) if "\n" in value or "\r" in value else value


def _ris_tags(record: ExportRecord) -> list[str]:
    kind = record.publication_type
    code = TYPE_CODES.get(kind)
    lines = []
    if code is not None:
        lines.append(f"TY  - {code}")
    elif not kind:
        lines.append("TY  - GEN")
    elif _M3_TYPE_RE.fullmatch(kind):
        lines += ["TY  - JOUR" if record.journal else "TY  - GEN", f"M3  - {kind}"]
    else:
        lines.append(f"TY  - {_one_line(kind)}")
    if record.title:
        lines.append(f"TI  - {_one_line(record.title)}")
    lines += [f"AU  - {_one_line(name)}" for name in record.authors if name]
    if record.year is not None:
        lines.append(f"PY  - {record.year}")
    for tag, value in (("T2", record.journal), ("VL", record.volume), ("IS", record.issue)):
        if value:
            lines.append(f"{tag}  - {_one_line(value)}")
    if record.pages:
        lines += _pages(_one_line(record.pages))
    if record.doi:
        lines.append(f"DO  - {_one_line(record.doi)}")
    if record.abstract:
        lines += _abstract(record.abstract)
    lines += [f"KW  - {_one_line(keyword)}" for keyword in record.keywords if keyword]
    for tag, value in (("UR", record.url), ("LA", record.language)):
        if value:
            lines.append(f"{tag}  - {_one_line(value)}")
    if record.pmid:
        lines.append(f"AN  - PMID: {record.pmid}")
    lines.append(f"ID  - {record.id}")
    if record.registry_id:
        lines.append(f"N1  - Trial registration: {registry_text(record.registry_id)}")
    lines.append(f"N1  - {screening_note(record)}")
    if record.duplicate_of is not None:
        lines.append(f"C1  - {record.duplicate_of}")
    lines += [f"C3  - {record.title_abstract.status}", f"C4  - {record.full_text.status}"]
    reason = record.exclusion_reason
    if reason:
        lines.append(f"C8  - {_one_line(reason)}")
    return lines


def _pages(pages: str) -> list[str]:
    """SP/EP for a plain range ("123-130"), else SP alone: Sieve joins them back to the same text."""
    first, dash, last = pages.partition("-")
    if dash and first and last and first != last and " " not in pages and "-" not in last:
        return [f"SP  - {first}", f"EP  - {last}"]
    return [f"SP  - {pages}"]


def _abstract(abstract: str) -> list[str]:
    """A paragraph per line: the first after `AB  - `, the next ones as continuation lines, except one that a
    reader would take for a tag line, which gets an `AB  - ` of its own (Sieve joins repeated ABs by newlines)."""
    if "\r" in abstract:
        abstract = abstract.replace("\r\n", "\n").replace("\r", "\n")
    lines: list[str] = []
    for paragraph in abstract.split("\n"):
        paragraph = paragraph.strip()  # as the readers do
        if not paragraph:
            continue
        lines.append(f"AB  - {paragraph}" if not lines or _TAG_LIKE_RE.match(paragraph) else paragraph)
    return lines


def registry_text(registry_id: str) -> str:
    """The registry id as Sieve's registry patterns find it ("CHICTR…" is stored upper-cased, found as "ChiCTR…")."""
    if find_registry_id(registry_id).upper() == registry_id:
        return registry_id
    for stored, written in _MIXED_CASE_REGISTRY:
        if registry_id.startswith(stored):
            candidate = written + registry_id[len(stored) :]
            if find_registry_id(candidate).upper() == registry_id:
                return candidate
    return registry_id


def decisions_text(decisions: tuple[tuple[str, str, str], ...]) -> str:
    """`alice: include; bob: exclude (Wrong population)`."""
    return "; ".join(
        f"{who}: {decision} ({_one_line(reason)})" if reason else f"{who}: {decision}"
        for who, decision, reason in decisions
    )


def screening_note(record: ExportRecord) -> str:
    """The screening as one sentence for RIS `N1` (what a reference manager shows as the note)."""
    head = f"Sieve record {record.id}"
    if record.duplicate_of is not None:
        head += f", a duplicate of record {record.duplicate_of} (screened through it)"
    parts = []
    for stage in STAGES:
        screening = record.stage(stage)
        text = f"{STAGE_LABELS[stage]}: {screening.status}"
        if screening.reason:
            text += f", reason: {_one_line(screening.reason)}"
        if screening.decisions:
            text += f" [{decisions_text(screening.decisions)}]"
        parts.append(text)
    which = "Your screening (blinded: your own decisions only)" if record.own_decisions_only else "Screening"
    return f"{head}. {which}: {'; '.join(parts)}."


# --- CSV --------------------------------------------------------------------------------------------------------


def csv_rows(records: Iterable[ExportRecord]) -> Iterator[list[Any]]:
    """The header (`CSV_COLUMNS`) and a row per record, for `core.csv_safe.csv_lines`."""
    yield CSV_COLUMNS
    for r in records:
        ta, ft = r.title_abstract, r.full_text
        yield [
            r.id, r.duplicate_of, r.source, r.title, r.abstract, "; ".join(r.authors), r.year, r.journal, r.volume,
            r.issue, r.pages, r.doi, r.pmid, r.registry_id, "; ".join(r.keywords), r.url, r.language,
            r.publication_type,
            ta.status, ta.reason, decisions_text(ta.decisions),
            ft.status, ft.reason, decisions_text(ft.decisions),
            r.exclusion_reason, r.own_decisions_only,
        ]  # fmt: skip


# --- responses --------------------------------------------------------------------------------------------------


def _buffered(chunks: Iterable[str], size: int = 1 << 16) -> Iterator[bytes]:
    """Chunks joined into pieces of about `size` characters: one write per piece, not per record."""
    pending: list[str] = []
    length = 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending).encode()
            pending, length = [], 0
    if pending:
        yield "".join(pending).encode()


def _filename(review: Review, stage: str, status: str, extension: str) -> str:
    parts = [f"review-{review.pk}-records", stage, status]
    return "-".join(p for p in parts if p) + f".{extension}"


def ris_response(*, review: Review, user: AnyUser, stage: str = "", status: str = "") -> StreamingHttpResponse:
    """The records as a streamed RIS download; ValidationError for bad filters (before anything is sent)."""
    records = export_records(review=review, user=user, stage=stage, status=status)
    response = StreamingHttpResponse(_buffered(ris_lines(records)), content_type=f"{RIS_MEDIA_TYPE}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(review, stage, status, "ris")}"'
    return response


def csv_response(*, review: Review, user: AnyUser, stage: str = "", status: str = "") -> StreamingHttpResponse:
    """The records as a streamed CSV download (UTF-8 with a BOM, formula-safe cells); ValidationError for bad
    filters."""
    records = export_records(review=review, user=user, stage=stage, status=status)
    response = StreamingHttpResponse(_buffered(csv_lines(csv_rows(records))), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(review, stage, status, "csv")}"'
    return response
