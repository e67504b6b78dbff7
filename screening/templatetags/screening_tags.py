"""`{% highlight text include_terms exclude_terms %}`: the text, escaped, with the review's terms marked."""

import re
from functools import lru_cache

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@lru_cache(maxsize=64)
def _pattern(include: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[re.Pattern[str] | None, frozenset[str]]:
    terms = sorted({t.lower() for t in include + exclude if t}, key=len, reverse=True)  # longest first
    if not terms:
        return None, frozenset()
    # A term matches at a word start; a trailing * matches any ending ("random*": randomised, randomly).
    parts = [re.escape(t[:-1]) + r"\w*" if t.endswith("*") else re.escape(t) + r"\b" for t in terms]
    return re.compile(r"\b(?:" + "|".join(parts) + ")", re.IGNORECASE), frozenset(t.lower() for t in exclude)


def _is_exclude(found: str, exclude: frozenset[str]) -> bool:
    lowered = found.lower()
    return any(lowered == t or (t.endswith("*") and lowered.startswith(t[:-1])) for t in exclude)


@register.simple_tag
def highlight(text: str | list[str], include: list[str], exclude: list[str]) -> SafeString:
    # A list (keywords) is joined here, not with the `join` filter: that escapes each item and this would escape
    # the result again ("Administration &amp;amp; Dosage").
    if isinstance(text, list | tuple):
        text = "; ".join(str(item) for item in text)
    pattern, excluded = _pattern(tuple(include or ()), tuple(exclude or ()))
    if pattern is None or not text:
        return escape(text or "")
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(escape(text[last : match.start()]))
        kind = "exclude" if _is_exclude(match.group(0), excluded) else "include"
        out.append(f'<mark class="hl-{kind}">{escape(match.group(0))}</mark>')
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of the text is escaped above
