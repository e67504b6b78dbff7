"""What both XML importers refuse beyond defusedxml's entity checks: a document type defined outside the file.

defusedxml refuses entity declarations (billion laughs, quadratic blow-up) and external entities; expat never
fetches an external DTD (`<!DOCTYPE x SYSTEM "http://…">`) by itself, but no export names one, and a file that
does was made to probe the server (or asks for network access Sieve does not have on a closed network): it is
refused with a message rather than silently read without its DTD."""

from __future__ import annotations

from typing import Any

from reviews.importers.base import ImportFormatError


def refuse_external_dtd(defused_parser: Any) -> None:
    """Make `defused_parser` (a defusedxml.ElementTree.DefusedXMLParser) refuse a DOCTYPE that names an external
    DTD. An internal DOCTYPE is left to defusedxml's entity checks."""
    expat = defused_parser.parser

    def start_doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        if system_id or public_id:
            shown = (system_id or public_id or "")[:120]
            raise ImportFormatError(
                f"the XML's document type <!DOCTYPE {name[:40]}> refers to an external definition ({shown!r}); "
                "Sieve does not read external files: export the file again (exports never refer to one)",
                line=int(expat.CurrentLineNumber),
            )

    expat.StartDoctypeDeclHandler = start_doctype
