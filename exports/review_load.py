"""Import of a review document (exports/review_json.py, `sieve-review/1`) into a NEW review.

All or nothing: the document is checked against its JSON Schema, then every row is created in one transaction,
its references mapped from the source ids to the new ones; anything wrong raises `ReviewImportError` naming what
and where (`records[12].year`), and the transaction adds nothing. The importing user becomes the owner; the other
members are matched by username to this server's accounts, and a username with no account (a member, or the
author of a decision, a value, a history entry) gets an inactive account with an unusable password, so that what
they did keeps its author. Computed results (analyses, agreement, priority scores) are restored as they were.
Every history entry, and the audit trail, is recreated with its original time and author, so that exporting the
new review gives the same document apart from ids and the export's own time."""

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import IO, Any

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import DatabaseError, connection, models, transaction

from exports.review_json import (
    AGREEMENT,
    PRIORITY,
    REVIEW_FIELDS,
    SCHEMA_VERSION,
    SETTINGS,
    TABLE_BY_KEY,
    TABLES,
    Ref,
    Single,
    Table,
    history_fields,
)
from exports.schema import build
from reviews import audit
from reviews.models import Membership, Review

AnyUser = User | AnonymousUser
# Told how far the import is (0-100) and what it is doing: before the check, then between tables (in the transaction).
Progress = Callable[[int, str], None]
BATCH = 1000
# The share of the progress bar before the rows are created: reading and checking the document.
CHECKED = 10


class ReviewImportError(Exception):
    """What is wrong with the document and where (a JSON path such as `records[12].year`, or "" for the whole)."""

    def __init__(self, message: str, path: str = "") -> None:
        self.message, self.path = message, path
        super().__init__(f"{path}: {message}" if path else message)


def max_bytes() -> int:
    return int(settings.SIEVE_MAX_IMPORT_MB) * 1024 * 1024


# --- reading and checking the document ------------------------------------------------------------------------


def _read(source: IO[bytes] | bytes | str) -> bytes:
    limit = max_bytes()
    if isinstance(source, str):
        source = source.encode()
    if not isinstance(source, bytes):
        size = getattr(source, "size", None)
        if size is not None and size > limit:
            raise ReviewImportError(_too_big(size, limit))
        source = source.read(limit + 1)
    if len(source) > limit:
        raise ReviewImportError(_too_big(len(source), limit))
    return source


def _too_big(size: int, limit: int) -> str:
    return (
        f"The document is {size / 1024 / 1024:.1f} MB; this server takes at most {limit // 1024 // 1024} MB "
        "(SIEVE_MAX_IMPORT_MB)."
    )


# The document is checked against the schema file by a checker compiled from it for the few keywords the file
# uses (`jsonschema` took half a minute on a 20,000-record review); exports/tests check that both agree.
Check = Callable[[Any, str], None]
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "null": (type(None),),
    "object": (dict,), "array": (list,),
}  # fmt: skip
IGNORED = {"description", "format", "$schema", "$id", "title"}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _at(path: str, key: str | int) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else (f"{path}.{key}" if path else key)


def compile_schema(schema: dict[str, Any]) -> Check:
    """A function that raises ReviewImportError (message and path) for the first value that breaks `schema`."""
    unknown = set(schema) - IGNORED - {
        "oneOf", "type", "enum", "const", "maxLength", "minLength", "minimum", "maximum", "pattern", "properties",
        "required", "additionalProperties", "items",
    }  # fmt: skip
    if unknown:
        raise ValueError(f"The schema uses keywords the importer does not check: {sorted(unknown)}")
    checks: list[Check] = []
    if "oneOf" in schema:
        # The file's only use: null or an object.
        (inner,) = [compile_schema(option) for option in schema["oneOf"] if option != {"type": "null"}]
        return lambda value, path: None if value is None else inner(value, path)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kinds = tuple(k for name in names for k in JSON_TYPES[name])
        accepts_bool = "boolean" in names

        def type_check(value: Any, path: str) -> None:
            if not isinstance(value, kinds) or (isinstance(value, bool) and not accepts_bool):
                raise ReviewImportError(f"should be of type {schema['type']}, not {_shown(value)}.", path)

        checks.append(type_check)
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v, p: _fail(v != const, f"should be {const!r}.", p))
    if "enum" in schema:
        allowed = schema["enum"]
        checks.append(lambda v, p: _fail(v not in allowed, f"{_shown(v)} is not one of {allowed}.", p))
    if "maxLength" in schema:
        most = schema["maxLength"]
        checks.append(lambda v, p: _fail(isinstance(v, str) and len(v) > most, f"longer than {most} characters.", p))
    if "minLength" in schema:
        least = schema["minLength"]
        checks.append(lambda v, p: _fail(isinstance(v, str) and len(v) < least, f"shorter than {least} characters.", p))
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v, p: _fail(_number(v) and v < low, f"{_shown(v)} is less than {low}.", p))
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda v, p: _fail(_number(v) and v > high, f"{_shown(v)} is more than {high}.", p))
    if "pattern" in schema:
        # JSON Schema patterns are ECMA-262 regular expressions, whose `$` is the end of the text; Python's `$`
        # also matches before a final newline (a username "alice\n" passed).
        source = schema["pattern"]
        pattern = re.compile(source[:-1] + r"\Z" if source.endswith("$") and not source.endswith("\\$") else source)
        checks.append(
            lambda v, p: _fail(
                isinstance(v, str) and not pattern.search(v),
                f"{_shown(v)} is not in the expected form ({pattern.pattern}).",
                p,
            )
        )
    if "properties" in schema:
        checks.append(_object_check(schema))
    if "items" in schema:
        item = compile_schema(schema["items"])

        def items_check(value: Any, path: str) -> None:
            if isinstance(value, list):
                for i, element in enumerate(value):
                    item(element, f"{path}[{i}]")

        checks.append(items_check)

    def check(value: Any, path: str) -> None:
        for one in checks:
            one(value, path)

    return check


def _object_check(schema: dict[str, Any]) -> Check:
    properties = {name: compile_schema(sub) for name, sub in schema["properties"].items()}
    required = schema.get("required", [])
    closed = schema.get("additionalProperties", True) is False

    def check(value: Any, path: str) -> None:
        if not isinstance(value, dict):
            return
        for name in required:
            if name not in value:
                raise ReviewImportError("missing (every key of the schema is required).", _at(path, name))
        if closed:
            extra = [name for name in value if name not in properties]
            if extra:
                raise ReviewImportError(f"unknown key {extra[0]!r}.", _at(path, extra[0]))
        for name, sub in properties.items():
            if name in value:
                sub(value[name], _at(path, name))

    return check


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fail(failed: bool, message: str, path: str) -> None:
    if failed:
        raise ReviewImportError(message, path)


@cache
def _checker() -> Check:
    return compile_schema(build.load())


def document_check(document_or_file: dict[str, Any] | IO[bytes] | bytes | str) -> dict[str, Any]:
    """The document, parsed and checked against the schema (the version first, so an export of another version
    is told so rather than given a list of differences)."""
    if isinstance(document_or_file, dict):
        document = document_or_file
    else:
        data = _read(document_or_file)
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ReviewImportError(f"Not valid JSON: {exc}.") from exc
        if b"\\u0000" in data:  # one C-level scan; the walk that finds where runs only when it is there
            _refuse_nul(document, "")
    if not isinstance(document, dict):
        raise ReviewImportError("Not a review document: the JSON is not an object.")
    version = document.get("schema")
    if version != SCHEMA_VERSION:
        said = "missing" if version is None else _shown(version)  # quoted and cut: the value may be megabytes
        raise ReviewImportError(
            f"Unsupported schema version {said}: this server imports {SCHEMA_VERSION} (a Sieve review export).",
            "schema",
        )
    # Exports written before the audit trail was added to sieve-review/1 have none: they import with an empty one.
    document.setdefault("audit_trail", [])
    _checker()(document, "")
    _check_links(document)
    return document


def _refuse_nul(value: Any, path: str) -> None:
    """A NUL character (JSON's \\u0000) anywhere: PostgreSQL stores none in text or jsonb, and the database error
    would say neither what nor where. Exports never hold one (the importers remove them)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ReviewImportError("contains a NUL character (\\u0000), which cannot be stored.", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise ReviewImportError("a key contains a NUL character (\\u0000), which cannot be stored.", path)
            _refuse_nul(item, _at(path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul(item, _at(path, index))


def _check_links(document: dict[str, Any]) -> None:
    """References that each point to an existing row but not to matching ones (a value for a field of another
    form, or for an arm of another study, than its extraction's): the pages could never make them."""
    keys = ("form_sections", "form_fields", "extractions", "arms")
    rows = {key: {row["id"]: row for row in document[key]} for key in keys}
    for i, field in enumerate(document["form_fields"]):
        section = rows["form_sections"].get(field["section"])
        if section is not None and section["form"] != field["form"]:
            raise ReviewImportError("is a section of another form than the field's.", f"form_fields[{i}].section")
    for key, arm_names in (("field_values", ("arm",)), ("outcome_data", ("arm_1", "arm_2"))):
        for i, row in enumerate(document[key]):
            extraction = rows["extractions"].get(row["extraction"])
            if extraction is None:
                continue  # an unknown reference, reported with its path when the rows are created
            field = rows["form_fields"].get(row.get("field"))
            if field is not None and field["form"] != extraction["form"]:
                raise ReviewImportError("is a field of another form than its extraction's.", f"{key}[{i}].field")
            for name in arm_names:
                arm = rows["arms"].get(row[name])
                if arm is not None and arm["study"] != extraction["study"]:
                    raise ReviewImportError("is an arm of another study than its extraction's.", f"{key}[{i}].{name}")


# --- values -----------------------------------------------------------------------------------------------------


def _value(field: models.Field, value: Any, path: str) -> Any:
    """A plain JSON value back as the column's Python value (the inverse of review_json.plain)."""
    if value is None:
        return None
    try:
        if isinstance(field, models.DateTimeField):
            parsed = datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError("no time zone")
            parsed.astimezone(UTC)  # stored in UTC: year 1 at +14:00 has no UTC time (OverflowError)
            return parsed
        if isinstance(field, models.DateField):
            return date.fromisoformat(value)
        if isinstance(field, models.DecimalField):
            number = Decimal(value)
            # The schema's pattern allows more digits than a column may hold: PostgreSQL would refuse the row
            # with "numeric field overflow", naming neither the value nor where it is.
            DecimalValidator(field.max_digits, field.decimal_places)(number)
            return number
    except (ValueError, TypeError, InvalidOperation, OverflowError) as exc:
        # Python's own message may repeat the whole value (megabytes of it): cut as the value is.
        reason = str(exc) if len(str(exc)) <= 120 else str(exc)[:117] + "..."
        raise ReviewImportError(f"{_shown(value)} is not a valid {type(field).__name__} ({reason}).", path) from exc
    except ValidationError as exc:
        raise ReviewImportError(f"{_shown(value)} does not fit: {' '.join(exc.messages)}", path) from exc
    return value


def _fields(model: type[models.Model], names: tuple[str, ...], row: dict[str, Any], path: str) -> dict[str, Any]:
    return {
        model._meta.get_field(n).attname: _value(model._meta.get_field(n), row[n], f"{path}.{n}")  # type: ignore[union-attr,arg-type]
        for n in names
    }


def _auto_times(model: type[models.Model], names: tuple[str, ...]) -> list[str]:
    """Fields the database would stamp with the import's time: restored to the document's after creation."""
    return [
        n
        for n in names
        if getattr(model._meta.get_field(n), "auto_now", False)
        or getattr(model._meta.get_field(n), "auto_now_add", False)
    ]


# --- people -----------------------------------------------------------------------------------------------------


def _usernames(document: dict[str, Any]) -> set[str]:
    """Every username the document names (members, authors, history entries)."""
    names = {m["username"] for m in document["members"]}
    names.add(document["review"]["created_by"])
    for spec in (*SETTINGS, AGREEMENT, PRIORITY):
        found = document["settings"].get(spec.key) if spec in SETTINGS else document.get(spec.key)
        for user_field in spec.users:
            names.add((found or {}).get(user_field))
    for table in TABLES:
        _, history_users = history_fields(table) if table.history else ((), ())
        for row in document[table.key]:
            names.update(row[u] for u in table.users)
            for entry in row.get("history", ()):
                names.add(entry["who"])
                names.update(entry["values"][u] for u in history_users)
    names.discard(None)  # type: ignore[arg-type]
    return names


def _accounts(names: set[str]) -> dict[str | None, int | None]:
    """username -> user id on this server, making an inactive account with an unusable password for a name that
    has none (an export carries no emails or passwords)."""
    users = get_user_model()._default_manager
    found: dict[str | None, int | None] = dict(users.filter(username__in=names).values_list("username", "pk"))
    for name in sorted(names - set(found)):
        account: AbstractBaseUser = users.model(username=name, is_active=False)
        account.set_unusable_password()
        account.save()
        found[name] = account.pk
    found[None] = None
    return found


# --- creating ---------------------------------------------------------------------------------------------------


class Loader:
    """Creates the rows of one document in a new review (inside the caller's transaction)."""

    def __init__(self, document: dict[str, Any], user: AnyUser, progress: Progress | None = None) -> None:
        self.document, self.user = document, user
        self.progress = progress
        self.ids: dict[str, dict[int, int]] = {}
        self.users: dict[str | None, int | None] = {}
        self.review: Review

    def user_id(self, name: str | None) -> int | None:
        return self.users[name]

    def run(self) -> Review:
        # The document's `audit_trail` is recreated as it was (a table like the others); the rows the import
        # writes are a copy, not changes, so they add no events of their own (as they add no history).
        with audit.suspended():
            return self._run()

    def _run(self) -> Review:
        self.users = _accounts(_usernames(self.document) | {self.user.get_username()})
        self._review()
        for spec in SETTINGS:
            self._single(spec, self.document["settings"][spec.key], "settings." + spec.key)
        for spec in (AGREEMENT, PRIORITY):
            self._single(spec, self.document[spec.key], spec.key)
        # Weighted by rows, so that the bar moves as the time goes (records and their history are most of it).
        total = sum(len(self.document[table.key]) + 1 for table in TABLES)
        done = 0
        for table in TABLES:
            if self.progress is not None:
                rows = len(self.document[table.key])
                self.progress(
                    CHECKED + (99 - CHECKED) * done // total, f"Creating {table.key.replace('_', ' ')} ({rows:,})"
                )
            self._table(table)
            done += len(self.document[table.key]) + 1
        return self.review

    def _review(self) -> None:
        head = self.document["review"]
        fields = _fields(Review, REVIEW_FIELDS, head, "review")
        review = Review(created_by_id=self.user_id(head["created_by"]), **fields)
        review.save()
        Review.objects.filter(pk=review.pk).update(**{n: fields[n] for n in _auto_times(Review, REVIEW_FIELDS)})
        self.review = review
        roles = {m["username"]: m["role"] for m in self.document["members"]}
        roles[self.user.get_username()] = Membership.Role.OWNER
        Membership.objects.bulk_create(
            Membership(review=review, user_id=self.users[name] or 0, role=role) for name, role in sorted(roles.items())
        )

    def _single(self, spec: Single, row: dict[str, Any] | None, path: str) -> None:
        if row is None:
            return
        fields = _fields(spec.model, spec.fields, row, path)
        fields |= {spec.model._meta.get_field(u).attname: self.user_id(row[u]) for u in spec.users}  # type: ignore[union-attr]
        spec.model._default_manager.create(review=self.review, **fields)
        auto = _auto_times(spec.model, spec.fields)
        if auto:
            spec.model._default_manager.filter(review=self.review).update(**{n: fields[n] for n in auto})

    def _ref(self, table: Table, ref_table: str, value: int | None, path: str) -> int | None:
        if value is None:
            return None
        found = self.ids[ref_table].get(value)
        if found is None:
            raise ReviewImportError(f"refers to id {value}, which is not in `{ref_table}`.", path)
        return found

    def _table(self, table: Table) -> None:
        model, rows = table.model, self.document[table.key]
        mapped: dict[int, int] = {}
        self.ids[table.key] = mapped
        later = [ref for ref in table.refs if ref.table == table.key]
        has_review = any(f.name == "review" for f in model._meta.fields)
        objects: list[models.Model] = []
        seen: set[int] = set()
        for i, row in enumerate(rows):
            path = f"{table.key}[{i}]"
            if row["id"] in seen:
                raise ReviewImportError(f"id {row['id']} is used twice in `{table.key}`.", f"{path}.id")
            seen.add(row["id"])
            values = _fields(model, table.fields, row, path)
            for ref in table.refs:
                if ref not in later:
                    values[_att(model, ref.field)] = self._ref(table, ref.table, row[ref.name], f"{path}.{ref.name}")
            for name in table.users:
                values[_att(model, name)] = self.user_id(row[name])
            if has_review:
                values["review_id"] = self.review.pk
            if table.key == "extraction_discrepancies":
                values["key"] = self._spot_key(row["key"], f"{path}.key")
            objects.append(model(**values))
        self._insert(table, objects)
        mapped.update((row["id"], obj.pk) for row, obj in zip(rows, objects, strict=True))
        for ref in later:
            pointing = [
                (obj.pk, [self._ref(table, ref.table, row[ref.name], f"{table.key}[{i}].{ref.name}")])
                for i, (row, obj) in enumerate(zip(rows, objects, strict=True))
                if row[ref.name] is not None
            ]
            self._set(table, [ref.field], pointing)
        auto = _auto_times(model, table.fields)
        if auto:
            # Creating stamped these with the import's time: the document's times are put back.
            fields = [model._meta.get_field(name) for name in auto]
            times = [
                (obj.pk, [_value(f, row[f.name], f"{table.key}[{i}].{f.name}") for f in fields])  # type: ignore[arg-type]
                for i, (row, obj) in enumerate(zip(rows, objects, strict=True))
            ]
            self._set(table, auto, times)
        for ref in table.many:
            self._many(table, ref, rows, objects)
        if table.history:
            self._history(table, rows, objects)

    def _insert(self, table: Table, objects: list[models.Model]) -> None:
        try:
            for start in range(0, len(objects), BATCH):
                table.model._default_manager.bulk_create(objects[start : start + BATCH])
        except DatabaseError as exc:
            raise ReviewImportError(f"the rows break a rule of the database: {exc}", table.key) from exc

    def _set(self, table: Table, names: list[str], rows: list[tuple[int, list[Any]]]) -> None:
        """Set columns of rows already created, one UPDATE … FROM (VALUES …) per batch: bulk_update's CASE per
        row took most of an import's time, and it would stamp auto_now fields again."""
        model, ops = table.model, connection.ops
        fields = [model._meta.get_field(name) for name in names]
        target = ops.quote_name(model._meta.db_table)
        pk = ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
        assignments = ", ".join(
            f"{ops.quote_name(str(f.column))} = v.column{n}"  # type: ignore[union-attr]
            for n, f in enumerate(fields, start=2)
        )
        row_sql = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
        try:
            with connection.cursor() as cursor:
                for start in range(0, len(rows), BATCH):
                    part = rows[start : start + BATCH]
                    params: list[Any] = []
                    for key, values in part:
                        params.append(key)
                        params += [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]  # type: ignore[union-attr]
                    cursor.execute(
                        f"UPDATE {target} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(part))}) AS v "  # noqa: S608 - names from the models, values as parameters
                        f"WHERE {target}.{pk} = v.column1",
                        params,
                    )
        except DatabaseError as exc:
            raise ReviewImportError(f"the rows break a rule of the database: {exc}", table.key) from exc

    def _many(self, table: Table, ref: Ref, rows: list[dict[str, Any]], objects: list[models.Model]) -> None:
        through = getattr(table.model, ref.field).through
        source = f"{table.model._meta.model_name}_id"
        target = f"{TABLE_BY_KEY[ref.table].model._meta.model_name}_id"
        links = [
            through(**{source: obj.pk, target: self._ref(table, ref.table, other, f"{table.key}[{i}].{ref.name}[{j}]")})
            for i, (row, obj) in enumerate(zip(rows, objects, strict=True))
            for j, other in enumerate(row[ref.name])
        ]
        through.objects.bulk_create(links, batch_size=BATCH)

    def _history(self, table: Table, rows: list[dict[str, Any]], objects: list[models.Model]) -> None:
        historical = table.model.history.model  # type: ignore[attr-defined]
        copied = [f.attname for f in historical._meta.fields if not f.name.startswith("history_")]
        fields, users = history_fields(table)

        def entries() -> Iterator[models.Model]:
            for i, (row, obj) in enumerate(zip(rows, objects, strict=True)):
                for j, entry in enumerate(row["history"]):
                    path = f"{table.key}[{i}].history[{j}]"
                    values = {name: getattr(obj, name) for name in copied}
                    values |= _fields(table.model, fields, entry["values"], f"{path}.values")
                    values |= {_att(table.model, u): self.user_id(entry["values"][u]) for u in users}
                    yield historical(
                        **values,
                        history_date=_value(historical._meta.get_field("history_date"), entry["when"], f"{path}.when"),
                        history_type=entry["change"],
                        history_user_id=self.user_id(entry["who"]),
                    )

        batch: list[models.Model] = []
        for row in entries():
            batch.append(row)
            if len(batch) >= BATCH:
                historical.objects.bulk_create(batch)
                batch = []
        historical.objects.bulk_create(batch)

    def _spot_key(self, key: str, path: str) -> str:
        """An extraction discrepancy's spot names arms, comparisons and outcomes by id: mapped to the new ones.
        `field:<field key>[:<arm id>]` or `data:<comparison id>:<outcome id>:<subgroup>:<number name>`."""
        kind, _, rest = key.partition(":")
        try:
            if kind == "field":
                field_key, _, arm = rest.partition(":")
                return f"field:{field_key}:{self.ids['arms'][int(arm)]}" if arm else key
            if kind == "data":
                comparison, outcome, tail = rest.split(":", 2)
                mapped_comparison = self.ids["comparisons"][int(comparison)]
                return f"data:{mapped_comparison}:{self.ids['outcomes'][int(outcome)]}:{tail}"
        except (KeyError, ValueError) as exc:
            raise ReviewImportError(
                f"names an arm, comparison or outcome not in the document ({key!r}).", path
            ) from exc
        raise ReviewImportError(f"not a spot of an extraction ({key!r}).", path)


def _att(model: type[models.Model], name: str) -> str:
    return model._meta.get_field(name).attname  # type: ignore[union-attr]


def review_import(
    *,
    user: AnyUser,
    document_or_file: dict[str, Any] | IO[bytes] | bytes | str,
    progress: Progress | None = None,
) -> Review:
    """A new review made from an export, owned by `user` (any logged-in user may import). All or nothing;
    raises ReviewImportError with the place of the first problem.

    `progress(percent, stage)` is called before the check and between tables, below 100 (the caller says when it
    is done). Calls after the check come inside the transaction: a caller that shows them to others must write
    them elsewhere (exports/services.py writes them on a connection of its own)."""
    if not user.is_authenticated:
        raise ReviewImportError("Log in to import a review.")
    if progress is not None:
        progress(1, "Reading and checking the document")
    document = document_check(document_or_file)
    with transaction.atomic():
        return Loader(document, user, progress).run()
