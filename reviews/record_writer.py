"""Fast bulk insert of imported records.

Written by hand because Django's bulk_create spends most of a 100,000-record import building model instances
and preparing each value; here rows go straight to the database: PostgreSQL's COPY in its text format
(psycopg2 copy_expert; the lines are built here, see `_copy_line`) or, on SQLite, one executemany per chunk.
JSON columns are encoded by orjson, several times faster than the json module on these small lists and dicts."""

import io
from collections.abc import Sequence
from datetime import datetime

import orjson
from django.db import connection

from reviews import raw_tags
from reviews.importers import ParsedRecord
from reviews.models import Record

# Column limits of Record; longer values are cut here but kept whole in `raw`.
LIMITS = {
    "volume": 100,
    "issue": 100,
    "pages": 100,
    "doi": 255,
    "pmid": 20,
    "registry_id": 64,
    "language": 100,
    "publication_type": 200,
}
# The text columns last and together, so that one scan of their joined text shows whether any needs escaping.
COLUMNS = (
    "review_id", "batch_id", "created_at", "duplicate_of_id", "position", "line", "year",
    "title", "abstract", "authors", "journal", "volume", "issue", "pages", "doi", "pmid", "registry_id", "keywords",
    "url", "language", "publication_type", "raw",
)  # fmt: skip
_FIRST_TEXT = COLUMNS.index("title")
_TEXT_SEPARATORS = len(COLUMNS) - _FIRST_TEXT - 1


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


def row(review_id: int, batch_id: int, position: int, parsed: ParsedRecord, now: datetime) -> tuple:
    year = parsed.year if parsed.year is not None and -32768 < parsed.year < 32768 else None
    return (
        review_id, batch_id, now, None, position, parsed.line, year,
        parsed.title, parsed.abstract, _dumps(parsed.authors), parsed.journal, parsed.volume[:100], parsed.issue[:100],
        parsed.pages[:100], parsed.doi[:255], parsed.pmid[:20], parsed.registry_id[:64], _dumps(parsed.keywords),
        parsed.url, parsed.language[:100], parsed.publication_type[:200],
        _dumps(raw_tags.compact(parsed.raw, {"abstract": parsed.abstract, "title": parsed.title})),
    )  # fmt: skip


def insert(rows: Sequence[tuple]) -> None:
    """Insert rows built by `row`. Caller is inside the import's processing; rows are invisible until it succeeds."""
    if not rows:
        return
    table = Record._meta.db_table
    names = ", ".join(connection.ops.quote_name(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            heads: dict[tuple, str] = {}
            payload = "".join([_copy_line(r, heads) for r in rows]).encode()
            cursor.cursor.copy_expert(  # type: ignore[attr-defined]
                f"COPY {table} ({names}) FROM STDIN",
                io.BytesIO(payload),
                # Large reads: each read needs the GIL, which the parsing thread holds for up to 5 ms at a time;
                # 8 KB reads made this thread wait longer than PostgreSQL worked.
                size=1 << 22,
            )
        else:
            marks = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)  # noqa: S608 - fixed names


NULL = "\\N"


def _copy_line(values: tuple, heads: dict[tuple, str]) -> str:
    """One row in COPY's text format: tab-separated, None as \\N, backslash, tab, newline and carriage return
    escaped. The common row needs no escaping, which a few C-level scans of its joined text columns prove."""
    key = values[:4]  # review, import, time, duplicate_of: the same for every row of an import
    head = heads.get(key)
    if head is None:
        head = heads[key] = "\t".join(NULL if v is None else str(v) for v in key)
    texts = "\t".join(values[_FIRST_TEXT:])
    if "\\" in texts or "\n" in texts or "\r" in texts or "\x00" in texts or texts.count("\t") != _TEXT_SEPARATORS:
        texts = "\t".join([_escape(text) for text in values[_FIRST_TEXT:]])
    position, line, year = values[4:_FIRST_TEXT]
    return f"{head}\t{position}\t{NULL if line is None else line}\t{NULL if year is None else year}\t{texts}\n"


def _escape(text: str) -> str:
    # PostgreSQL text cannot hold NUL (decode() removes it from files; a JSON export may still spell one \\u0000).
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r").replace("\x00", "")


def set_duplicate_of(pairs: Sequence[tuple[int, int | None]]) -> None:
    """Point each record (id, primary id or None) at its primary, in a few statements.

    Hand-written because bulk_update builds one CASE per row; PostgreSQL joins a VALUES list instead."""
    if not pairs:
        return
    if connection.vendor != "postgresql":
        Record.objects.bulk_update(
            [Record(pk=pk, duplicate_of_id=dup) for pk, dup in pairs], ["duplicate_of"], batch_size=500
        )
        return
    table = Record._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(pairs), 5000):
            batch = pairs[start : start + 5000]
            values = ", ".join(["(%s::bigint, %s::bigint)"] * len(batch))
            cursor.execute(
                f"UPDATE {table} AS r SET duplicate_of_id = v.dup FROM (VALUES {values}) AS v(id, dup) "  # noqa: S608
                "WHERE r.id = v.id",
                [x for pair in batch for x in pair],
            )


class BackgroundInserter:
    """Inserts chunks on a second connection in a thread while the caller parses the next chunk: PostgreSQL
    ingests on its own core. On SQLite (one writer at a time), or inside a transaction, it inserts in the
    caller's thread.

    Use as a context manager; an error in the thread is raised in the caller at the next `put` or at exit."""

    def __init__(self) -> None:
        import queue
        import threading

        # A second connection sees only committed rows: inside a transaction, insert in the caller's thread.
        self.threaded = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.error: BaseException | None = None
        if self.threaded:
            self.queue: queue.Queue[Sequence[tuple] | None] = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._run, name="record-inserter", daemon=True)

    def __enter__(self) -> "BackgroundInserter":
        if self.threaded:
            self.thread.start()
        return self

    def _run(self) -> None:
        from django.db import connection as thread_connection

        try:
            while (rows := self.queue.get()) is not None:
                if self.error is None:
                    insert(rows)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, which raises it
            self.error = exc
            while self.queue.get() is not None:  # drain so the producer never blocks
                pass
        finally:
            thread_connection.close()

    def put(self, rows: Sequence[tuple]) -> None:
        if self.error is not None:
            raise self.error
        if self.threaded:
            self.queue.put(rows)
        else:
            insert(rows)

    def finish(self) -> None:
        """Wait until every row put has been written; raise the writer's error, if any. Idempotent."""
        if self.threaded and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None:
            raise self.error

    def __exit__(self, *exc_info: object) -> None:
        if self.threaded and self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()
        if self.error is not None and exc_info[0] is None:
            raise self.error
