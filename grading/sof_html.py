"""The Summary of Findings as a standalone HTML document, from the templates the page uses too
(templates/grading/sof_document.html and _sof_table.html): HTML is written in templates, never in Python strings."""

from collections.abc import Sequence
from typing import Any

from django.template.loader import render_to_string

from grading.sof import GRADE_GRADES, GRADE_GRADES_HEADING, NO_OUTCOMES, SofTable


def table_context() -> dict[str, Any]:
    """What _sof_table.html needs besides the table."""
    return {"grades": GRADE_GRADES, "grades_heading": GRADE_GRADES_HEADING, "no_outcomes": NO_OUTCOMES}


def to_html(tables: Sequence[SofTable], *, title: str) -> str:
    """The tables as one standalone HTML5 document (UTF-8, embedded CSS for screen and A4 landscape print)."""
    return render_to_string("grading/sof_document.html", {"tables": tables, "title": title, **table_context()})
