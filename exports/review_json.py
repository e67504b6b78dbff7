"""The whole review as one versioned JSON document (`SCHEMA_VERSION`), written as a stream of bytes.

The document is described for people in docs/export-json.md and for programs in
exports/schema/review-1.schema.json (built from `TABLES` by exports/schema/build.py, so the two cannot drift).

Shape: a few single objects (`review`, `members`, `settings`, `agreement`, `priority_model`), then one flat list
per table of `TABLES`, in an order where every reference points to a list written before it (except a record's
`duplicate_of` and a form's `based_on`, which point into their own list). Each row has its `id` in the source
review; references (`record`, `study`, `arm_1`, …) hold those ids, and the importer maps them to new ones. People
are named by username only. Rows of tables with a django-simple-history history carry it as
`history: [{when, who, change, values}]`. The last list, `audit_trail`, is the review's audit trail
(reviews.models.AuditEvent, oldest first), for owners only.

Who gets what follows the pages' blinding (each app's selectors): an editor or owner gets everything; a reviewer
while a stage is blinded gets only their own decisions, extractions and risk-of-bias assessments (with their
values, data, judgements and histories), none of the conflicts, discrepancies, agreement or priority scores of
that stage, and analyses and certainty ratings only when `grading.selectors_certainty.may_read` (and
`synthesis.selectors.may_read`) allow. The keys left empty for that reason are listed in `withheld`.

The writer reads every table in keyset batches of `BATCH` rows (with their histories in one query per batch), so
memory stays flat however large the review is, and the first bytes leave before the records are read."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from extraction import models as X
from extraction import selectors as extraction_selectors
from grading import models as G
from grading import selectors as rob_selectors
from grading import selectors_certainty as certainty_selectors
from reviews.models import AuditEvent, DuplicateGroup, Import, Membership, Record, Review, role_at_least
from screening import models as S
from screening import selectors as screening_selectors
from synthesis import selectors as synthesis_selectors
from synthesis.models import Analysis

SCHEMA_VERSION = "sieve-review/1"
BATCH = 1000

AnyUser = User | AnonymousUser


@dataclass(frozen=True)
class Ref:
    """A reference to a row of another table (or the same one): exported as `name`, the model's `field`."""

    name: str
    field: str
    table: str


@dataclass(frozen=True)
class Table:
    """One list of the document: rows of `model` with `fields` as they are, `refs` as source ids, `users` as
    usernames, `many` (many-to-many) as lists of source ids, and `history` when the model keeps one."""

    key: str
    model: type[models.Model]
    fields: tuple[str, ...]
    refs: tuple[Ref, ...] = ()
    users: tuple[str, ...] = ()
    many: tuple[Ref, ...] = ()
    history: bool = False


@dataclass(frozen=True)
class Single:
    """One object (or null when the review has none yet) under `settings` or at the top level."""

    key: str
    model: type[models.Model]
    fields: tuple[str, ...]
    users: tuple[str, ...] = ()


REVIEW_FIELDS = (
    "title", "objectives", "population", "intervention", "comparator", "outcomes", "eligibility_criteria",
    "created_at", "updated_at", "version",
)  # fmt: skip

SETTINGS = (
    Single(
        "screening", S.ScreeningSettings,
        ("reviewers_needed", "blinded", "include_terms", "exclude_terms", "exclusion_reasons", "priority", "version",
         "updated_at"),
    ),
    Single("extraction", X.ExtractionSettings, ("extractors_per_study", "blinded", "version")),
    Single("risk_of_bias", G.RobSettings, ("tool", "assessors_per_study", "blinded", "version")),
)  # fmt: skip
AGREEMENT = Single("agreement", S.AgreementSummary, ("data", "stale", "computed_at"))
PRIORITY = Single(
    "priority_model", S.PriorityModel,
    ("ready", "stale", "outcomes_used", "relevant_expected", "relevant_low", "relevant_high", "trained_at"),
)  # fmt: skip

DATA_NUMBERS = X.ALL_DATA_FIELDS
CERTAINTY_CHANGES = G.CERTAINTY_DOMAINS

TABLES: tuple[Table, ...] = (
    Table(
        "imports", Import,
        ("source", "source_kind", "searched_on", "strategy", "filename", "size", "content_hash", "format_requested",
         "format", "status", "records_found", "records_added", "duplicates_found", "errors", "warnings",
         "warning_count", "created_at", "started_at", "finished_at"),
        users=("created_by",),
    ),
    Table(
        "records", Record,
        ("position", "line", "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
         "pmid", "registry_id", "keywords", "url", "language", "publication_type", "raw", "created_at"),
        refs=(Ref("import", "batch", "imports"), Ref("duplicate_of", "duplicate_of", "records")),
    ),
    Table(
        "duplicate_groups", DuplicateGroup, ("status", "score", "reason", "created_at", "decided_at"),
        refs=(Ref("primary", "primary", "records"),), users=("decided_by",),
        many=(Ref("records", "records", "records"),), history=True,
    ),
    Table(
        "full_texts", S.FullText, ("filename", "not_retrieved", "note", "updated_at"),
        refs=(Ref("record", "record", "records"),), users=("uploaded_by",), history=True,
    ),
    Table(
        "record_scores", S.RecordScore, ("score",), refs=(Ref("record", "record", "records"),),
    ),
    Table(
        "decisions", S.Decision, ("stage", "decision", "reason", "note", "created_at", "updated_at"),
        refs=(Ref("record", "record", "records"),), users=("reviewer",), history=True,
    ),
    Table(
        "screening_outcomes", S.Outcome,
        ("stage", "status", "decision", "reason", "conflict_found_at", "resolved_at", "updated_at"),
        refs=(Ref("record", "record", "records"),), users=("resolved_by",), history=True,
    ),
    Table(
        "studies", X.Study, ("label", "design", "notes", "created_at", "updated_at", "version"),
        users=("created_by",), history=True,
    ),
    Table(
        "study_reports", X.StudyReport, ("primary", "added_at"),
        refs=(Ref("study", "study", "studies"), Ref("record", "record", "records")), history=True,
    ),
    Table(
        "arms", X.Arm, ("position", "name", "intervention", "dose", "route", "randomised", "completed"),
        refs=(Ref("study", "study", "studies"),), history=True,
    ),
    Table(
        "forms", X.ExtractionForm, ("name", "number", "status", "created_at", "published_at", "version"),
        refs=(Ref("based_on", "based_on", "forms"),), users=("created_by",), history=True,
    ),
    Table(
        "form_sections", X.FormSection, ("position", "title", "help_text"), refs=(Ref("form", "form", "forms"),),
    ),
    Table(
        "form_fields", X.FormField,
        ("position", "key", "label", "type", "required", "help_text", "unit", "choices", "per_arm"),
        refs=(Ref("form", "form", "forms"), Ref("section", "section", "form_sections")),
    ),
    Table(
        "outcomes", X.Outcome, ("position", "name", "type", "direction", "unit", "timepoint", "version"),
        history=True,
    ),
    Table(
        "comparisons", X.Comparison, ("position", "name", "intervention", "control", "version"), history=True,
    ),
    Table(
        "extractions", X.Extraction, ("status", "version", "created_at", "updated_at"),
        refs=(Ref("study", "study", "studies"), Ref("form", "form", "forms")), users=("reviewer",), history=True,
    ),
    Table(
        "field_values", X.FieldValue, ("value", "changed_in", "updated_at"),
        refs=(Ref("extraction", "extraction", "extractions"), Ref("field", "field", "form_fields"),
              Ref("arm", "arm", "arms")),
        users=("updated_by",), history=True,
    ),
    Table(
        "outcome_data", X.OutcomeData, ("subgroup", *DATA_NUMBERS, "note", "changed_in", "updated_at"),
        refs=(Ref("extraction", "extraction", "extractions"), Ref("comparison", "comparison", "comparisons"),
              Ref("outcome", "outcome", "outcomes"), Ref("arm_1", "arm_1", "arms"), Ref("arm_2", "arm_2", "arms")),
        users=("updated_by",), history=True,
    ),
    Table(
        "extraction_discrepancies", X.Discrepancy,
        ("key", "label", "values", "status", "resolution", "resolved_at", "found_at"),
        refs=(Ref("study", "study", "studies"), Ref("form", "form", "forms")), users=("resolved_by",), history=True,
    ),
    Table(
        "analyses", Analysis,
        ("effect_measure", "model", "method", "hksj", "giv_ratio", "pooled", "not_pooled_reason", "version",
         "status", "generation", "input_hash", "result", "error", "computed_at", "changed_at"),
        refs=(Ref("comparison", "comparison", "comparisons"), Ref("outcome", "outcome", "outcomes")),
        users=("updated_by",), history=True,
    ),
    Table(
        "rob_assessments", G.RobAssessment,
        ("tool", "variant", "status", "overall", "overall_proposed", "overall_override_reason", "version",
         "created_at", "updated_at"),
        refs=(Ref("study", "study", "studies"), Ref("outcome", "outcome", "outcomes")),
        users=("assessor", "overall_by"), history=True,
    ),
    Table(
        "rob_judgements", G.RobJudgement,
        ("domain", "answers", "proposed", "judgement", "override_reason", "support", "changed_in", "updated_at"),
        refs=(Ref("assessment", "assessment", "rob_assessments"),), users=("updated_by",), history=True,
    ),
    Table(
        "rob_discrepancies", G.RobDiscrepancy,
        ("domain", "values", "status", "resolution", "note", "resolved_at", "found_at"),
        refs=(Ref("study", "study", "studies"), Ref("outcome", "outcome", "outcomes")), users=("resolved_by",),
        history=True,
    ),
    Table(
        "certainty", G.CertaintyRating,
        ("start", *CERTAINTY_CHANGES, "explanations", "importance", "imprecision_threshold", "assumed_risk",
         "comments", "rated_input_hash", "rated_measure", "level", "status", "signed_off_at", "version",
         "updated_at"),
        refs=(Ref("comparison", "comparison", "comparisons"), Ref("outcome", "outcome", "outcomes")),
        users=("signed_off_by", "updated_by"), history=True,
    ),
    # Last: the trail names what it is about by label, not by reference. The owners' only (empty for the others:
    # a role, not blinding, so not in `withheld`); an import recreates it as it was (exports/review_load.py).
    Table(
        "audit_trail", AuditEvent,
        ("at", "actor_name", "action", "subject", "object_type", "label", "field", "old_value", "new_value"),
        users=("actor",),
    ),
)  # fmt: skip
TABLE_BY_KEY = {table.key: table for table in TABLES}

# Extra keys of a full text row: the PDF is not embedded, only what identifies it.
FULL_TEXT_FILE_KEYS = ("file_size", "file_sha256")


# --- who sees what --------------------------------------------------------------------------------------------


@dataclass
class Scope:
    """What the asking member may read, from each app's blinding helpers (review.my_role is set)."""

    review: Review
    user: AnyUser
    screening_all: bool
    extraction_all: bool
    rob_all: bool
    editor: bool
    owner: bool
    analyses: bool
    certainty: bool

    @classmethod
    def of(cls, review: Review, user: AnyUser) -> "Scope":
        return cls(
            review=review,
            user=user,
            screening_all=screening_selectors.sees_all(review),
            extraction_all=extraction_selectors.sees_all(review),
            rob_all=rob_selectors.sees_all(review),
            editor=role_at_least(review.my_role, Membership.Role.EDITOR),
            owner=role_at_least(review.my_role, Membership.Role.OWNER),
            analyses=synthesis_selectors.may_read(review),
            certainty=certainty_selectors.may_read(review),
        )

    def withheld(self) -> list[str]:
        """Keys left empty (or partly filled) for this member by blinding."""
        hidden = []
        if not self.screening_all:
            hidden += ["decisions", "screening_outcomes", "record_scores", "priority_model"]
        if not self.editor:
            hidden.append("agreement")
        if not self.extraction_all:
            hidden += ["extractions", "field_values", "outcome_data", "extraction_discrepancies"]
        if not self.analyses:
            hidden.append("analyses")
        if not self.rob_all:
            hidden += ["rob_assessments", "rob_judgements", "rob_discrepancies"]
        if not self.certainty:
            hidden.append("certainty")
        return hidden

    def rows(self, table: Table) -> QuerySet[Any]:
        """The rows of a table this member may read (`extraction`/`grading` selectors for their blinding)."""
        review, user = self.review, self.user
        base = _review_rows(table, review)
        own_decisions = screening_selectors.decision_list(review=review, user=user).values("pk")
        own_extractions = extraction_selectors.extraction_list(review=review, user=user).values("pk")
        own_assessments = rob_selectors.assessment_list(review=review, user_id=user.pk or 0).values("pk")
        limits: dict[str, Callable[[], QuerySet[Any]]] = {
            "decisions": lambda: base.filter(pk__in=own_decisions),
            "screening_outcomes": lambda: base if self.screening_all else base.none(),
            "record_scores": lambda: base if self.screening_all else base.none(),
            "extractions": lambda: base.filter(pk__in=own_extractions),
            "field_values": lambda: base.filter(extraction__in=own_extractions),
            "outcome_data": lambda: base.filter(extraction__in=own_extractions),
            "extraction_discrepancies": lambda: base if self.extraction_all else base.none(),
            "analyses": lambda: base if self.analyses else base.none(),
            "rob_assessments": lambda: base.filter(pk__in=own_assessments),
            "rob_judgements": lambda: base.filter(assessment__in=own_assessments),
            "rob_discrepancies": lambda: base.filter(pk__in=rob_selectors.discrepancy_list(review=review).values("pk")),
            "certainty": lambda: base if self.certainty else base.none(),
            "audit_trail": lambda: base if self.owner else base.none(),
        }
        limit = limits.get(table.key)
        return limit() if limit else base


def _review_rows(table: Table, review: Review) -> QuerySet[Any]:
    """Every row of the table that belongs to the review (through the review column or its parent's)."""
    manager = table.model._default_manager
    through = {
        "arms": "study__review",
        "form_sections": "form__review",
        "form_fields": "form__review",
        "field_values": "extraction__review",
        "outcome_data": "extraction__review",
        "rob_judgements": "assessment__review",
    }
    found = manager.filter(**{through.get(table.key, "review"): review})
    # Records of an import still running (or failed) are invisible everywhere else too.
    return found.filter(batch__status=Import.Status.SUCCEEDED) if table.model is Record else found


# --- values -----------------------------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A column's value as JSON: times and dates in ISO 8601 (UTC), decimals as exact strings."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Usernames:
    """User id -> username, fetched in bulk per batch (authors may have left the review, so not only members)."""

    def __init__(self) -> None:
        self.known: dict[int, str] = {}

    def load(self, ids: Iterable[int | None]) -> None:
        missing = {i for i in ids if i is not None and i not in self.known}
        if missing:
            users = get_user_model()._default_manager.filter(pk__in=missing).values_list("pk", "username")
            self.known.update(users)

    def __getitem__(self, user_id: int | None) -> str | None:
        return None if user_id is None else self.known.get(user_id)


def _attname(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname  # type: ignore[union-attr]


def row_of(table: Table, obj: Any, names: Usernames) -> dict[str, Any]:
    row: dict[str, Any] = {"id": obj.pk}
    for ref in table.refs:
        row[ref.name] = getattr(obj, _attname(table.model, ref.field))
    for name in table.users:
        row[name] = names[getattr(obj, _attname(table.model, name))]
    for name in table.fields:
        row[name] = plain(getattr(obj, name))
    return row


def history_fields(table: Table) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The table's plain fields and user fields that its history tracks (references are not in the history:
    a row's history is of its own values)."""
    tracked = {f.name for f in table.model.history.model._meta.get_fields()}  # type: ignore[attr-defined]
    return (
        tuple(n for n in table.fields if n in tracked),
        tuple(n for n in table.users if n in tracked),
    )


def _histories(table: Table, ids: list[int], names: Usernames) -> dict[int, list[dict[str, Any]]]:
    fields, users = history_fields(table)
    rows = list(
        table.model.history.filter(id__in=ids).order_by("id", "history_date", "history_id")  # type: ignore[attr-defined]
    )
    names.load(r.history_user_id for r in rows)
    names.load(getattr(r, _attname(table.model, u)) for r in rows for u in users)
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in rows:
        values = {n: plain(getattr(r, n)) for n in fields}
        values |= {n: names[getattr(r, _attname(table.model, n))] for n in users}
        found[r.id].append(
            {"when": plain(r.history_date), "who": names[r.history_user_id], "change": r.history_type, "values": values}
        )
    return found


def table_rows(table: Table, rows: QuerySet[Any]) -> Iterator[dict[str, Any]]:
    """The rows as JSON objects, read in keyset batches of BATCH (constant memory)."""
    names = Usernames()
    user_columns = [_attname(table.model, u) for u in table.users]
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        ids = [obj.pk for obj in batch]
        names.load(getattr(obj, column) for obj in batch for column in user_columns)
        histories = _histories(table, ids, names) if table.history else {}
        many = {ref.name: _many(table, ref, ids) for ref in table.many}
        for obj in batch:
            row = row_of(table, obj, names)
            for ref in table.many:
                row[ref.name] = many[ref.name].get(obj.pk, [])
            if table.key == "full_texts":
                row |= _file_identity(obj.file)
            if table.history:
                row["history"] = histories[obj.pk]
            yield row


def _many(table: Table, ref: Ref, ids: list[int]) -> dict[int, list[int]]:
    through = getattr(table.model, ref.field).through
    source = f"{table.model._meta.model_name}_id"
    target = f"{_target_model(table, ref)._meta.model_name}_id"
    found: dict[int, list[int]] = {}
    for owner, other in (
        through.objects.filter(**{f"{source}__in": ids}).order_by(source, target).values_list(source, target)
    ):
        found.setdefault(owner, []).append(other)
    return found


def _target_model(table: Table, ref: Ref) -> type[models.Model]:
    return TABLE_BY_KEY[ref.table].model


def _file_identity(file: Any) -> dict[str, Any]:
    """Size and SHA-256 of a stored PDF (not embedded), or nulls when there is none."""
    if not file:
        return {"file_size": None, "file_sha256": None}
    try:
        digest = hashlib.sha256()
        with file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return {"file_size": file.size, "file_sha256": digest.hexdigest()}
    except OSError:
        # The file is gone from storage: the document says so rather than failing the whole export.
        return {"file_size": None, "file_sha256": None}


def single(spec: Single, review: Review) -> dict[str, Any] | None:
    obj = spec.model._default_manager.filter(review=review).first()
    if obj is None:
        return None
    return {name: plain(getattr(obj, name)) for name in spec.fields}


# --- the document -----------------------------------------------------------------------------------------------


def _dumps(value: Any) -> bytes:
    return orjson.dumps(value)


def review_json_chunks(*, review: Review, user: AnyUser) -> Iterator[bytes]:
    """The document as chunks of bytes. Precondition: `review` comes from review_get_for_user (my_role set)."""
    scope = Scope.of(review, user)
    names = Usernames()
    names.load([review.created_by_id])
    head = {
        "schema": SCHEMA_VERSION,
        "exported_at": plain(timezone.now()),
        "exported_by": getattr(user, "username", None),
        "source_review_id": review.pk,
        "withheld": scope.withheld(),
        "review": {"created_by": names[review.created_by_id], **{n: plain(getattr(review, n)) for n in REVIEW_FIELDS}},
        "members": [
            {"username": username, "role": role}
            for username, role in Membership.objects.filter(review=review)
            .order_by("user__username")
            .values_list("user__username", "role")
        ],
        "settings": {spec.key: single(spec, review) for spec in SETTINGS},
        "agreement": single(AGREEMENT, review) if scope.editor else None,
        "priority_model": single(PRIORITY, review) if scope.screening_all else None,
    }
    # The head as an object whose closing brace is cut off, then each table as `,"key":[rows]`.
    yield _dumps(head)[:-1]
    for table in TABLES:
        yield b',"' + table.key.encode() + b'":['
        first = True
        pending: list[bytes] = []
        for row in table_rows(table, scope.rows(table)):
            pending.append(_dumps(row) if first else b"," + _dumps(row))
            first = False
            if len(pending) >= 200:
                yield b"".join(pending)
                pending = []
        yield b"".join(pending) + b"]"
    yield b"}\n"


def json_response(*, review: Review, user: AnyUser) -> StreamingHttpResponse:
    """The document streamed as a download. Precondition: as for `review_json_chunks`."""
    response = StreamingHttpResponse(review_json_chunks(review=review, user=user), content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="review-{review.pk}-{stamp}.json"'
    return response
