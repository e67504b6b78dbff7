"""Coverage-guided fuzz targets (atheris, i.e. libFuzzer for Python) for every importer and the review JSON check.

    python -m tests.fuzz.harness ris [libFuzzer flags…] CORPUS_DIR      one target; `python -m tests.fuzz.run` runs them

A target feeds the bytes libFuzzer makes to one entry point. What counts as a finding (an uncaught exception, so
libFuzzer saves the input as a crash):
- any exception other than the entry point's own error (ImportFormatError, ReviewImportError);
- that error without a message, with an unbounded one (it is stored and shown), or the importers' generic
  fallback ("could not be read after record N: …"), which means a parser tripped over an exception it did not
  expect;
- parse_file returning no records without an error.
Hangs and memory blow-ups are libFuzzer's `-timeout` and `-rss_limit_mb` (run.py sets both).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

# Messages are shown on the import page and stored on the import: a very long one is itself a finding.
MAX_MESSAGE = 2000
GENERIC_FALLBACK = "could not be read after record"

Target = Callable[[bytes], None]


def _importer_target(fmt: str | None) -> Target:
    from reviews.importers import ImportFormatError, parse_file

    filename = "upload.txt" if fmt is None else f"upload.{fmt}"

    def target(data: bytes) -> None:
        try:
            _name, records = parse_file(data, filename=filename, format=fmt)
        except ImportFormatError as exc:
            if not exc.message.strip() or len(str(exc)) > MAX_MESSAGE or GENERIC_FALLBACK in exc.message:
                raise AssertionError(f"unclear ImportFormatError: {str(exc)[:500]!r}") from exc
            return
        if not records:
            raise AssertionError("parse_file returned no records and no error")

    return target


def _review_json_target() -> Target:
    from exports.review_load import ReviewImportError, document_check

    def target(data: bytes) -> None:
        try:
            document_check(data)
        except ReviewImportError as exc:
            if not exc.message.strip() or len(str(exc)) > MAX_MESSAGE:
                raise AssertionError(f"unclear ReviewImportError: {str(exc)[:500]!r}") from exc

    return target


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()


def review_json_seeds() -> list[bytes]:
    """A smallest valid review document, made from the schema (every key, empty tables), and two near misses."""
    import orjson

    from exports.schema import build

    document = skeleton(build.load())
    return [orjson.dumps(document), orjson.dumps({**document, "schema": "sieve-review/0"}), b"{}"]


def skeleton(schema: dict[str, Any]) -> Any:
    """The least value `schema` accepts: null where allowed, empty arrays, objects with every required key."""
    if "oneOf" in schema:
        return None
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "const" in schema:
        return schema["const"]
    if "null" in kinds:
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if "object" in kinds:
        return {name: skeleton(sub) for name, sub in schema.get("properties", {}).items()}
    if "array" in kinds:
        return []
    if "integer" in kinds or "number" in kinds:
        return max(1, schema.get("minimum", 1))
    if "boolean" in kinds:
        return False
    if "string" in kinds:
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00+00:00"
        if schema.get("format") == "date":
            return "2026-01-01"
        return "x" * max(1, schema.get("minLength", 1)) if "pattern" in schema else ""
    return {}


def target_names() -> list[str]:
    from reviews.importers import FORMATS

    return [*FORMATS, "detect", "review_json"]


def make_target(name: str) -> Target:
    from reviews.importers import FORMATS

    if name in FORMATS:
        return _importer_target(name)
    if name == "detect":
        return _importer_target(None)
    if name == "review_json":
        setup_django()
        return _review_json_target()
    raise SystemExit(f"unknown target {name!r}; choose one of {', '.join(target_names())}")


def main() -> None:
    try:
        import atheris
    except ImportError:  # pragma: no cover - the "fuzz" extra is not installed
        raise SystemExit("atheris is not installed: pip install -e '.[fuzz]'") from None
    if len(sys.argv) < 2:
        raise SystemExit(f"usage: python -m tests.fuzz.harness TARGET [libFuzzer flags] [CORPUS_DIR]; targets: "
                         f"{', '.join(target_names())}")  # fmt: skip
    name = sys.argv.pop(1)
    # The parsers' libraries log each malformed block (bibtexparser): millions of lines on fuzzed input.
    logging.disable(logging.CRITICAL)
    # Instrument the code under test (and the parsing libraries it calls) so that libFuzzer sees its branches.
    with atheris.instrument_imports(include=["reviews", "exports", "bibtexparser", "defusedxml", "charset_normalizer"]):
        target = make_target(name)
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
