"""What Sieve keeps of an uploaded file's name.

Files are stored under names Sieve makes (see the models' upload_to); the user's name is kept only to show it
(and to check its extension). Django's multipart parser already drops directories and unprintable characters
from browser uploads, but services are also called with files from elsewhere (the API's clients, scripts,
tests), so the name is cleaned here once more: the last path component whichever separator it uses, no control
or format characters (a NUL cannot be stored by PostgreSQL; a right-to-left override makes "gpj.exe" read as
"exe.jpg"), at most 255 characters with the extension kept.
"""

import re
import unicodedata
from pathlib import PurePosixPath
from typing import IO

MAX_NAME = 255
# Unicode categories dropped from names: controls (NUL, newlines), format characters (bidirectional overrides,
# zero-width joiners), surrogates that cannot be encoded, and unassigned code points.
_DROPPED = frozenset(("Cc", "Cf", "Cs", "Cn"))


def upload_name(name: str | None, default: str) -> str:
    """The name to show for an upload: its last component, printable, at most 255 characters; `default` if
    nothing is left."""
    text = (name or "").replace("\\", "/")
    text = "".join(char for char in text if unicodedata.category(char) not in _DROPPED)
    text = PurePosixPath(text.rstrip("/")).name.strip() if text.strip("/ ") else ""
    if text in ("", ".", ".."):
        return default
    if len(text) > MAX_NAME:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and len(extension) <= 16:
            text = stem[: MAX_NAME - len(extension) - 1].rstrip() + "." + extension
        else:
            text = text[:MAX_NAME]
    return text


# A PDF starts with "%PDF-" and its version within its first 1024 bytes and ends with "%%EOF" (readers tolerate
# some bytes before the one and after the other: mail gateways and old servers add them). Checked by hand, as
# readers do, rather than by parsing the document: the file is only stored here, and a parser would be a large
# attack surface of its own for a check that needs none of it.
_PDF_HEADER = re.compile(rb"%PDF-[12]\.\d")
PDF_HEAD = 1024
PDF_TAIL = 2048


def pdf_problem(file: IO[bytes], size: int) -> str | None:
    """Why `file` (of `size` bytes) is not a PDF, or None. Reads its first and last few KB; leaves it at 0."""
    file.seek(0)
    head = file.read(PDF_HEAD)
    file.seek(max(size - PDF_TAIL, 0))
    tail = file.read(PDF_TAIL)
    file.seek(0)
    header = _PDF_HEADER.search(head)
    if header is None:
        return f"it does not start as a PDF file does (it starts {_shown(head)})"
    before = head[: header.start()]
    # Bytes before the header are tolerated, but not markup or a binary container that merely holds a PDF:
    # an HTML error page or a zip that mentions "%PDF-1.7" near its start is not a PDF.
    if b"<" in before or b"\x00" in before or b"PK\x03\x04" in before:
        return f"it is some other file with a PDF inside or quoted (it starts {_shown(head)})"
    if b"%%EOF" not in tail:
        return "it is incomplete (it does not end as a PDF file does: the upload or the download was cut off)"
    return None


def _shown(data: bytes) -> str:
    text = data[:24].decode("latin-1")
    printable = "".join(char if char.isprintable() else "." for char in text)
    return f"“{printable}”"
