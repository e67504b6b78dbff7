"""What the load test reads from Sieve's pages, kept apart from the locustfile (importing locust patches the
standard library with gevent), so that tests/load/test_pages.py holds it to the templates it reads."""

import re

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# templates/screening/_pane.html: the record on screen, an error on the decision, the end of the queue.
RECORD = re.compile(r'<input type="hidden" name="record" value="(\d+)">')
ALERT = re.compile(r'<div class="alert alert-danger[^"]*" role="alert">([^<]*)</div>')
QUEUE_EMPTY = "Nothing left for you at this stage."
# templates/extraction/extract.html, _extract_saved.html: where a cell saves, and the page's version.
SAVE_URL = re.compile(r"/reviews/\d+/extractions/(\d+)/save/")
VERSION = re.compile(r'id="extraction-version" name="version" value="(\d+)"')


def csrf_token(html: str) -> str | None:
    found = CSRF.search(html)
    return found.group(1) if found else None


def record_shown(html: str) -> int | None:
    """The record a screening page or pane offers, if any."""
    found = RECORD.search(html)
    return int(found.group(1)) if found else None


def refusal(html: str) -> str | None:
    """The message of a decision the server refused, shown above the record again."""
    found = ALERT.search(html)
    return found.group(1).strip() if found else None


def queue_empty(html: str) -> bool:
    return QUEUE_EMPTY in html


def extraction_shown(html: str) -> tuple[int, int] | None:
    """The extraction (id, version) of an extraction page."""
    url, version = SAVE_URL.search(html), VERSION.search(html)
    return (int(url.group(1)), int(version.group(1))) if url and version else None


def version_saved(html: str) -> int | None:
    """The page's new version in the answer to a saved cell."""
    found = VERSION.search(html)
    return int(found.group(1)) if found else None
