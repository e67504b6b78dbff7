"""Find records of a review that may be the same publication. Pure Python: no Django here.

`find_duplicates(records)` returns candidate pairs, each `auto` (certain enough to merge without a person) or
`pending` (plausible: queue it for a person). It works in three steps:

1. Blocking, so that the cost grows close to linearly with the number of records instead of with its square:
   only records that share a key are compared. Keys: DOI, PMID, trial-registry id, the first three title words,
   the two longest title words (both cut to their first letters, so a late typo does not split a block), year +
   first author's surname, volume + first page; plus a sorted-neighbourhood pass over all normalized titles.
   A block over its cap (`_BLOCK_CAP`, `_BLOCK_CAPS`) is not compared all-against-all but each member against
   its next neighbours in title order, so no key can make the work quadratic.
2. Comparison of each candidate pair. A fast path drops the pairs that are plainly different (most of them):
   no similar title (rapidfuzz `fuzz.ratio`), no shared identifier, not the same volume and page, no title
   contained in the other. The rest are compared field by field: identifiers, normalized title, authors (surname
   words, order-insensitive, tolerant of lost letters), year (±1 for e-pub vs print), journal (abbreviation vs
   full name), volume and pages ("123-30" == "123-130"). The decision is made by explicit rules rather than one
   weighted score, because the traps are qualitative: an erratum, a reply, a conference abstract, a registry
   entry, a Cochrane review update or "Part II" can agree with the original paper on almost every field. Such
   pairs are never merged automatically; at most they are queued for a person.
3. Resolution: auto pairs are joined into groups (union-find), never across a pair a person called distinct;
   a pending pair is kept only if it joins two groups not yet asked about.

Auto-merges must be right (the target is pairwise precision >= 0.998 on labelled benchmarks), so every `auto`
rule asks for agreement on the title, the authors, the year and a bibliographic detail or identifier, and for
no contradiction anywhere. `pending` is deliberately wider (the target is that auto + pending find >= 97% of the
duplicate pairs), but it excludes pairs whose publication details contradict each other twice over (two of
journal, volume, first page and DOI differ), and pending pairs that add nothing are dropped.

Most of the text handling is written by hand because no library covers it: MEDLINE/Embase/WoS title
decorations ("[Review] [57 refs]", "[Erratum appears in ...]", "(vol 360, pg 542, 2009)", "<ORIGINAL> ..."),
Greek letters, LaTeX remnants from BibTeX, author strings in half a dozen layouts (and glued into one), and
journal abbreviations. rapidfuzz does the string similarity. (`rapidfuzz.process.cdist` would need numpy, which
Sieve does not depend on; per-pair `fuzz` calls on the few pairs blocking leaves are fast enough.)
"""

from __future__ import annotations

import gc
import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple
from urllib.parse import unquote

from rapidfuzz import fuzz

Decision = Literal["auto", "pending"]


@dataclass(frozen=True, slots=True)
class DedupeRecord:
    id: int
    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""  # already normalized: lower case, no resolver prefix
    pmid: str = ""
    registry_id: str = ""  # NCT..., ISRCTN..., ACTRN...
    abstract: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    a: int  # record ids, a < b
    b: int
    score: float  # 0..1
    decision: Decision  # auto = certain enough to merge without a person; pending = queue for a person
    reason: str  # short human-readable why, e.g. "same DOI", "title 0.98, authors 0.91, same year, volume, pages"


# ---------------------------------------------------------------------------------------------------------------
# Text normalization
# ---------------------------------------------------------------------------------------------------------------

# Greek letters are spelled out: databases disagree on whether a title says "β-blockers", "beta-blockers" or
# "b-blockers"; spelling them out makes the first two identical. NFKD does not do this, so it is a table.
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu", "ν": "nu", "ξ": "xi",
    "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon",
    "φ": "phi", "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}  # fmt: skip
_GREEK_RE = re.compile("|".join(_GREEK))
# Letters NFKD does not decompose into ASCII.
_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i"})

_LATEX_ACCENT = re.compile(r"\\[`'^\"~=.uvHckrbdt]\s*\{?\s*\\?([a-zA-Z])\s*\}?")
_LATEX_CMD = re.compile(r"\\([a-zA-Z]+)\s*")
_LATEX_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
}  # fmt: skip
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ORIGINAL = re.compile(r"<\s*original\s*>.*$", re.IGNORECASE | re.DOTALL)  # Ovid: "<ORIGINAL> title in French"
_UNKNOWN_CHAR = re.compile(r"(?<=\w)[?\ufffd](?=\w)")  # "toracostom?a": a lost non-ASCII letter
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# "Title... N Engl J Med. 2009 Jan 29;360(5):544-6": a letter with the cited paper appended after an ellipsis.
# An ellipsis inside a title ("'Stand still ... , and move on'") is kept as a space.
_ELLIPSIS_CITATION = re.compile(
    r"(?<=\S{3})\s*(?:\.\.\.|…)\s*(?:$|(?=.*\b(?:1[89]|20)\d\d\b)(?=.*[;:(]\s*\d).*$)", re.S
)

# Notices about another paper: they repeat its title but are not the paper. One pattern, one group per kind.
# The keyword must be followed by punctuation or "to" ("Correction: X", "Erratum to X"): "Correction of
# scoliosis" and "Response to cisplatin" are ordinary titles.
_LINK = r"(?:\s*[:.\-–—]+\s*|\s+to\b\s*[:.\-–—]?\s*)"
_NOTICE_PREFIX = re.compile(
    r"^\s*(?:"
    rf"(?P<retraction_notice>(?:retraction(?: notice| note)?|notice of retraction|expression of concern){_LINK})|"
    r"(?P<retracted>\[retracted(?: article| publication)?\]\s*|retracted(?: article| publication)?\s*[:.\-–—]\s*)|"
    r"(?P<erratum>(?:erratum|errata|corrigendum|corrigenda|correction(?: notice)?|notice of correction|"
    rf"publisher'?s? (?:note|erratum)|author correction){_LINK})|"
    r"(?P<reply>(?:re\s*:|(?:in )?reply(?: to)?\b|authors?'? (?:reply|response)\b|"
    r"response to (?:the )?(?:letter|comment|correspondence|editor)\w*\b)\s*[:.\-–—]?\s*)|"
    r"(?P<comment>(?:comment(?:s|ary)? (?:on|to)\b|letter to the editor\b)\s*[:.\-–—]?\s*)"
    r")",
    re.IGNORECASE,
)
# Web of Science: "Title (vol 360, pg 542, 2009)"; Embase: "Title (Journal (2009) 360 (542-544))".
_ERRATUM_SUFFIX = re.compile(
    r"\s*\((?:vol\.? ?\w+,? (?:pg|p|pp|page)\.? ?\w+[^()]*|[^()]*\(\d{4}\)[^()]*\([\w\s\-–]+\)[^()]*)\)\s*\.?\s*$",
    re.IGNORECASE,
)
_REPLY_SUFFIX = re.compile(
    r"\s*[:.\-–—]+\s*(?:reply|authors?'? reply|response|in reply|the authors reply)\s*\.?\s*$|\s+authors?'? reply\s*$",
    re.IGNORECASE,
)

_PART = re.compile(r"\b(?:part|pt|teil|partie|parte)\.?\s+([ivx]{1,5}|\d{1,2}|one|two|three|four|five)\b")
_PART_WORDS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "i": "1", "ii": "2", "iii": "3",
               "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9", "x": "10"}  # fmt: skip
_ROMAN = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"}

# Titles that say nothing about the work: two records sharing one of these are not thereby the same paper.
_GENERIC_TITLES = {
    "", "unknown", "untitled", "no title", "editorial", "editorials", "book review", "book reviews", "letter",
    "letters", "letter to the editor", "reply", "comment", "comments", "commentary", "erratum", "errata",
    "correction", "corrigendum", "introduction", "preface", "foreword", "news", "abstract", "abstracts",
    "in brief", "highlights", "announcements", "index", "contents", "table of contents", "front matter",
    "back matter", "obituary", "in memoriam", "acknowledgments", "acknowledgements", "reviewers",
}  # fmt: skip
_STOP = {
    "a", "an", "the", "of", "in", "on", "for", "and", "or", "to", "with", "by", "at", "from", "as", "is", "are",
    "its", "their", "de", "la", "le", "les", "des", "der", "die", "das", "und", "en", "el", "los", "del", "et",
    "y", "di", "il", "da", "do", "em", "um", "une", "un", "vs", "versus",
}  # fmt: skip


def _fold(text: str) -> str:
    """Lower case ASCII: Greek letters spelled out, diacritics dropped, other letters folded."""
    text = text.lower()
    if not text.isascii():
        text = _GREEK_RE.sub(lambda m: f" {_GREEK[m.group(0)]} ", text).translate(_FOLD)
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text


def _strip_markup(text: str) -> str:
    """HTML tags and entities, and LaTeX accents, commands, braces and math dollars (from BibTeX exports)."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = _ORIGINAL.sub("", text)
        text = _TAG.sub("", text)
    if "\\" in text:
        text = _LATEX_ACCENT.sub(r"\1", text)
        text = _LATEX_CMD.sub(lambda m: f" {m.group(1)} " if m.group(1).lower() in _LATEX_GREEK else " ", text)
    if "{" in text or "$" in text:
        text = text.replace("{", "").replace("}", "").replace("$", "")
    return text


def _strip_trailing_notes(text: str) -> str:
    """Drop database notes after the title: "[Review] [57 refs]", "[Article in Chinese]", "[Erratum appears in
    ...]" (nested brackets included), a truncated "[c", and unwrap a title that is all in brackets (MEDLINE's
    mark for a translated title)."""
    text = text.strip()
    while True:
        stripped = text.rstrip(" .;,")
        if stripped.startswith("[") and stripped.endswith("]") and _matching_open(stripped) == 0:
            text = stripped[1:-1].strip()  # "[Translated title]." -> "Translated title"
            continue
        if stripped.endswith("]"):
            start = _matching_open(stripped)
            if start is not None and start > 0 and len(stripped[:start].strip()) >= 10:
                text = stripped[:start].rstrip()
                continue
        last_open = stripped.rfind("[")
        if last_open > 0 and "]" not in stripped[last_open:] and len(stripped) - last_open <= 40:
            text = stripped[:last_open].rstrip()  # truncated note: "... severity... [c"
            continue
        return stripped


def _matching_open(text: str) -> int | None:
    """Index of the "[" matching the final "]" of `text`, or None if unbalanced."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == "]":
            depth += 1
        elif ch == "[":
            depth -= 1
            if depth == 0:
                return i
    return None


def _title_and_kind(raw: str) -> tuple[str, frozenset[str]]:
    """The normalized title and what kind of item the title says the record is (erratum, reply, ...)."""
    text = _strip_markup(raw)
    if "..." in text or "…" in text:
        text = _ELLIPSIS_CITATION.sub("", text).replace("...", " ").replace("…", " ")
    if "[" in text:
        text = _strip_trailing_notes(text)
    kinds: set[str] = set()
    for _ in range(2):  # "Retracted: Erratum to: ..." has two prefixes
        m = _NOTICE_PREFIX.match(text)
        if not m or m.end() >= len(text.rstrip()):
            break
        kind = m.lastgroup
        if kind != "retracted":  # "Retracted: Title" is the paper itself
            kinds.add(kind.replace("_", " ") if kind else "notice")
        text = text[m.end() :]
    tail = text.rstrip(" .")
    if tail.endswith(")"):
        m = _ERRATUM_SUFFIX.search(text)
        if m and m.start() > 0:
            kinds.add("erratum")
            text = text[: m.start()]
    lowered = text.lower()
    if "repl" in lowered or "respon" in lowered:
        m = _REPLY_SUFFIX.search(text)
        if m and m.start() > 0:
            kinds.add("reply")
            text = text[: m.start()]
    if "?" in text or "\ufffd" in text:
        text = _UNKNOWN_CHAR.sub("", text)
    return _NON_ALNUM.sub(" ", _fold(text)).strip(), frozenset(kinds)


def normalize_title(s: str) -> str:
    """Lower-case ASCII words separated by single spaces, without markup, database notes or notice prefixes.

    >>> normalize_title("The β-cell in type 2 diabetes. [Review] [57 refs]")
    'the beta cell in type 2 diabetes'
    """
    return _title_and_kind(s)[0]


# ---------------------------------------------------------------------------------------------------------------
# Authors
# ---------------------------------------------------------------------------------------------------------------

# Name particles are unreliable: "Le Quintrec, M." is also exported as "Quintrec, M. Le" and "Le, Quintrec M.".
_PARTICLES = {"de", "da", "del", "della", "der", "den", "di", "do", "dos", "du", "el", "la", "le", "van", "von",
              "ter", "ten", "st", "saint", "al", "bin", "ben", "jr", "sr", "ii", "iii", "iv", "mc"}  # fmt: skip
# "Adeli K.Lewis G. F." (all authors in one string, a known EndNote/ASySD export fault): split after an
# initial's period when a capitalized name follows directly.
_GLUED_AUTHORS = re.compile(r"(?<=[A-Z]\.)(?=[A-Z][a-z'\u00c0-\u024f])")
_GLUED_HINT = re.compile(r"[A-Z]\.[A-Z][a-z'\u00c0-\u024f]")  # cheap test before the zero-width split
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_CORPORATE = {
    "group", "consortium", "investigators", "committee", "society", "association", "trial", "study", "network",
    "inc", "ltd", "llc", "gmbh", "pharmaceutical", "pharmaceuticals", "university", "hospital", "institute",
    "organization", "organisation", "council", "foundation", "collaboration", "collaborators", "collaborative",
}  # fmt: skip


class _Author(NamedTuple):  # a NamedTuple: created often, and much faster to create than a frozen dataclass
    key: str  # the surname's longest non-particle word: used for blocking and exact comparison
    words: frozenset[str]  # every name word (surname and spelled-out given names), particles left out
    corporate: bool  # "ALTS Group", "Alexion Pharmaceuticals, Inc": listed inconsistently across databases


def _split_authors(authors: Iterable[str]) -> list[str]:
    """One string per author: BibTeX "A and B", "A; B" and glued "Adeli K.Lewis G. F." are split."""
    out: list[str] = []
    for author in authors:
        parts = _AUTHOR_SEPARATOR.split(author) if (";" in author or " and " in author) else [author]
        for part in parts:
            if "." in part and _GLUED_HINT.search(part):
                out.extend(p for p in _GLUED_AUTHORS.split(part) if p.strip())
            elif part.strip():
                out.append(part)
    return out


_AUTHOR_SEPARATOR = re.compile(r"\s*;\s*|\s+and\s+")
_NOT_AUTHORS = {"UNKNOWN", "ANONYMOUS", "ANON", "[ANONYMOUS]", "NA", "N/A"}


@lru_cache(maxsize=262144)
def _parse_author(raw: str) -> _Author | None:
    """Surname and name words from "Surname, Given", "Surname GF", "G. F. Surname" or "Given Surname"."""
    raw = _strip_markup(raw)
    if "?" in raw or "\ufffd" in raw:
        raw = _UNKNOWN_CHAR.sub("", raw)
    raw = raw.strip(" .,;")
    if not raw or raw.upper() in _NOT_AUTHORS:
        return None
    folded = _fold(raw)
    words = [w for w in _NON_ALNUM.split(folded) if len(w) > 1]
    corporate = not _CORPORATE.isdisjoint(words)
    if "," in raw and not corporate:
        surname_words = [w for w in _NON_ALNUM.split(folded.split(",", 1)[0]) if len(w) > 1]
    elif corporate:
        surname_words = words
    else:
        tokens = raw.replace(".", ". ").split()
        # Drop trailing initials ("Li Z. M.") or leading ones ("K. S. Cook"); otherwise the first word is taken
        # as the surname (MEDLINE and Embase write "Omulo Sylvia"), and all words still count as name words.
        while len(tokens) > 1 and _INITIALS.match(tokens[-1]):
            tokens.pop()
        while len(tokens) > 1 and _INITIALS.match(tokens[0]):
            tokens.pop(0)
        surname_words = [w for w in _NON_ALNUM.split(_fold(tokens[0])) if len(w) > 1]
    kept = [w for w in surname_words if w not in _PARTICLES] or surname_words
    if not kept:
        return None
    name_words = frozenset(w for w in words if w not in _PARTICLES) or frozenset(words)
    return _Author(key=max(kept, key=len), words=name_words, corporate=corporate)


def _same_author(x: _Author, y: _Author) -> bool:
    """Same surname, allowing for particles, swapped parts and a letter lost in transliteration or encoding
    ("Muñoz" exported as "Mu?oz", "Kuzdzal" as "Kuzdza")."""
    if x.key == y.key or x.key in y.words or y.key in x.words:
        return True
    return min(len(x.key), len(y.key)) >= 3 and fuzz.ratio(x.key, y.key) >= 80


class _Authors:
    """A record's parsed author list (first 12), with the union of its name words for quick look-ups."""

    __slots__ = ("people", "words")

    def __init__(self, people: list[_Author]) -> None:
        self.people = people[:12]
        self.words = frozenset().union(*(a.words for a in self.people)) if self.people else frozenset()

    def agreement(self, other: _Authors) -> float:
        """Share of the shorter list found in the other list, in any order."""
        xs, ys = (self, other) if len(self.people) <= len(other.people) else (other, self)
        found = 0
        for x in xs.people:
            if x.key in ys.words or any(_same_author(x, y) for y in ys.people):
                found += 1
        return found / len(xs.people) if xs.people else 0.0


# ---------------------------------------------------------------------------------------------------------------
# Journal, volume, pages
# ---------------------------------------------------------------------------------------------------------------

_JOURNAL_STOP = {"the", "of", "and", "for", "in", "on", "de", "la", "der", "und", "et", "y", "fur", "d", "l", "a"}
# Alternative names of one journal: "Zhongguo fei ai za zhi = Chinese journal of lung cancer", "Revista
# Panamericana de Salud Publica/Pan American Journal of Public Health", "Gan to Kagaku Ryoho [Japanese Journal
# of Cancer & Chemotherapy]".
_JOURNAL_ALTERNATIVES = re.compile(r"\s*(?:=|/|\[|\])\s*")
# A name's subtitle, gloss or section: "Brain: A Journal of Neurology", "Stroke; a journal of cerebral
# circulation", "Acta Paediatrica, International Journal of Paediatrics", "Circulation. Conference: ...".
_JOURNAL_SUBTITLE = re.compile(r"\s*(?:[:;,(]|\s-\s|\.\s*(?=[A-Z]))")
_JOURNAL_NOISE = {"electronic", "resource", "internet", "print", "online", "journal", "conference", "abstracts",
                  "abstract", "supplement", "meeting"}  # fmt: skip


def _journal_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in _NON_ALNUM.split(_fold(text.replace("&", " "))) if w and w not in _JOURNAL_STOP)


@lru_cache(maxsize=65536)
def _journal_forms(journal: str) -> tuple[tuple[str, ...], ...]:
    """Word tuples for the journal name as given and for each alternative name without its subtitle: databases
    disagree on which of these they export."""
    forms = {_journal_words(journal)}
    for alternative in _JOURNAL_ALTERNATIVES.split(journal):
        words = _journal_words(_JOURNAL_SUBTITLE.split(alternative, maxsplit=1)[0])
        if words and not set(words) <= _JOURNAL_NOISE:
            forms.add(words)
    forms.discard(())
    return tuple(forms)


def _is_abbreviation(short: tuple[str, ...], full: tuple[str, ...]) -> bool:
    """Whether `short` abbreviates `full` word for word, stopwords aside ("N Engl J Med" ~ "New England Journal
    of Medicine", "Eur J Cardiothorac Surg" ~ "European Journal of Cardio-thoracic Surgery"), is its acronym
    ("BMJ", "CMAJ"), or is the abbreviation written as one word ("Jthoraccardiovascsurg"). No full word may be
    left out: "Workshop of Digital Studies" is not "Journal of Digital Studies". ISO 4 abbreviation lists are not
    available offline, so this is by hand."""
    if len(short) == 1 and len(full) > 1 and 2 <= len(short[0]) <= 6 and short[0] == "".join(w[0] for w in full):
        return True
    # Written as one word ("Jthoraccardiovascsurg"): its letters in order, reaching into the last full word.
    if len(short) == 1 and len(full) > 1 and len(short[0]) > 6:
        word = short[0]
        return _is_subsequence(word, "".join(full)) and not _is_subsequence(word, "".join(full[:-1]))
    # Each short word abbreviates one full word or a run of them ("cardiothorac" ~ "cardio thoracic").
    i = 0
    for word in short:
        for span in (1, 2, 3):
            if i + span <= len(full) and _abbreviates(word, "".join(full[i : i + span])):
                i += span
                break
        else:
            return False
    return i == len(full)


def _abbreviates(word: str, full: str) -> bool:
    """ "engl" ~ "england" (a prefix) or "natl" ~ "national" (a contraction: same first letter, in order)."""
    return full.startswith(word) or (word[0] == full[0] and len(word) >= 3 and _is_subsequence(word, full))


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return short[:1] == long[:1] and all(ch in it for ch in short)


@lru_cache(maxsize=65536)
def _journals_compatible(a: str, b: str) -> bool:
    """Whether two journal fields can name the same journal (abbreviation vs full name, translations, subtitles)."""
    forms_a, forms_b = _journal_forms(a), _journal_forms(b)
    if not forms_a or not forms_b:
        return True
    for x in forms_a:
        for y in forms_b:
            if x == y or "".join(x) == "".join(y):
                return True
            short, full = (x, y) if len("".join(x)) <= len("".join(y)) else (y, x)
            if _is_abbreviation(short, full):
                return True
            # "Surgical endoscopy" vs "Surgical Endoscopy and Other Interventional Techniques": a name of two
            # words or more that starts the other.
            if len(short) >= 2 and full[: len(short)] == short:
                return True
            if fuzz.ratio(" ".join(x), " ".join(y)) >= 90:
                return True
    return False


_DIGITS = re.compile(r"\d+")


def _volume(value: str) -> str:
    """The volume number: the first number ("38 (Supplement 1)" -> 38), or the last when the value starts with
    words ("Korsakova. Part 2. 117" -> 117). A fragment such as "1)" (the tail of a split field) is no volume."""
    value = value.strip()
    if value.isdigit():  # the usual case, fast
        return value.lstrip("0") or "0"
    if not value or value.count(")") > value.count("("):
        return ""
    numbers = _DIGITS.findall(value)
    if not numbers:
        return ""
    number = numbers[0] if value[0].isdigit() else numbers[-1]
    return number.lstrip("0") or "0"


_PAGE_CHUNKS = re.compile(r"[,;+&]|\band\b")
_PAGE_WORD = re.compile(r"^(?:pp?|pgs?|pages?)\.?\s*")
# A first page: up to three letters stuck to the number ("S417", "e12724", "CD002273", "PI54"), a letter after
# it ("100A"), then maybe a dash and the last page.
_PAGE_RANGE = re.compile(r"([a-z]{0,3})(\d+)[a-z]?(?:\s*[-–—]+\s*[a-z]{0,3}(\d+)[a-z]?)?")
_PAGE_TAIL = re.compile(r"[-–—]\s*[a-z]{0,3}(\d+)[a-z]?\s*$")


def _pages(value: str) -> tuple[frozenset[str], str]:
    """The first page of every range ("233-8, 230-5" -> {233, 230}) and the last page of the first range,
    expanded ("123-30" -> 130). Pages are text: "S542", "e24" and "CD002273" are page ids too. A range whose
    start is garbled ("Suppl-29", "t-8": fragments left by some exports) or after its end ("2297-2108") gives
    only its last page."""
    first, _, end = value.partition("-")
    if first.isdigit() and (not end or end.isdigit()):  # the usual "123-130", "123-30" or "123", fast
        first = first.lstrip("0") or "0"
        end = (end.lstrip("0") or "0") if end else ""
        if end and len(end) < len(first):
            end = first[: len(first) - len(end)] + end
        if end and int(end) < int(first):
            return frozenset(), end  # "2297-2108": a typo in one of the two; the last page is the likelier
        return frozenset((first,)), end
    starts: set[str] = set()
    last = ""
    for chunk in _PAGE_CHUNKS.split(value.lower()):
        chunk = _PAGE_WORD.sub("", chunk.strip())
        m = _PAGE_RANGE.fullmatch(chunk)
        if not m:
            tail = _PAGE_TAIL.search(chunk)
            if tail and not last:
                last = tail.group(1).lstrip("0") or "0"
            continue
        first = m.group(2).lstrip("0") or "0"
        end = ""
        if m.group(3):
            end = m.group(3).lstrip("0") or "0"
            if len(end) < len(first):  # "123-30" -> 130
                end = first[: len(first) - len(end)] + end
        if not end or int(end) >= int(first):
            starts.add(m.group(1) + first)
        if not last:
            last = end
    return frozenset(starts), last


def _same_pages(p: _Rec, q: _Rec) -> bool | None:
    """True/False when the first pages can be compared, None when they cannot: one is missing or garbled, or
    one is an electronic article number ("e12724", "a1754") and the other a printed page (another numbering)."""
    if p.pages_start and q.pages_start:
        if p.pages_start & q.pages_start:
            return True
        if p.pages_last and p.pages_last == q.pages_last:
            return None  # "2141-2147" vs "2142-2147": a typo in a first page, not another article
        return False if p.page_styles == q.page_styles else None
    # Only the last pages: "Suppl-29" vs "S417-S429" agree (the garbled one keeps the last digits).
    a, b = p.pages_last, q.pages_last
    if a and b and min(len(a), len(b)) >= 2 and (a.endswith(b) or b.endswith(a)):
        return True
    return None


def _page_style(page: str) -> str:
    """The letters before the number: "" for printed pages, "e" for e-locators, "s" for supplement pages."""
    return page[: len(page) - len(page.lstrip("abcdefghijklmnopqrstuvwxyz"))]


def _span(starts: frozenset[str], last: str) -> int:
    """Number of pages after the first (0 for one page or unknown)."""
    if len(starts) != 1 or not last.isdigit():
        return 0
    first = next(iter(starts))
    return int(last) - int(first) if first.isdigit() else 0


# ---------------------------------------------------------------------------------------------------------------
# Prepared records
# ---------------------------------------------------------------------------------------------------------------

_SUPPLEMENT = re.compile(
    r"suppl|meeting|conference|congress|symposium|abstracts?\b|proceedings|poster|special issue|sp\.? ?iss\b", re.I
)
# ICTRP names the source register of each record in its journal field by the register's short name.
_REGISTRY_VENUE = re.compile(
    r"clinicaltrials\.gov|trial regist|isrctn|anzctr|ictrp|trialsearch|register|"
    r"^\s*(?:chictr|drks|irct|ctri|jprn|cris|kct|ntr|nl-omon|pactr|rebec|rbr|slctr|tctr|euctr|ctis|lbctr|itmctr|"
    r"rpcec|repec|isrctn|actrn|nct)\s*$",
    re.I,
)
_COCHRANE_DOI = re.compile(r"^10\.1002/14651858\.(cd\d+)(?:\.pub(\d+))?")


class _Rec:
    """What the comparison needs from one record. What blocking needs is computed up front; the rest only when
    the record meets another one that is not plainly different (few do), and then kept."""

    __slots__ = (
        "doi", "idx", "kind", "pages_last", "pages_start", "pmid", "rec", "registry", "signature", "surname", "title",
        "title_words", "volume", "word_set", "year",
        "_authors", "_cochrane", "_first_author", "_flags", "_numbers", "_page_styles", "_part",
    )  # fmt: skip

    def __init__(self, idx: int, rec: DedupeRecord) -> None:
        self.idx = idx
        self.rec = rec
        self.title, self.kind = _title_and_kind(rec.title) if rec.title else ("", frozenset())
        self.title_words = [w for w in self.title.split() if w not in _STOP]
        self.word_set = frozenset(self.title_words)
        sig = 0
        for word in self.word_set:
            sig |= 1 << (hash(word) & 255)
        self.signature = sig  # one bit per title word: a cheap superset test for `_may_contain`
        self.year = rec.year
        self.doi = unquote(rec.doi).lower().strip() if rec.doi else ""
        self.pmid = rec.pmid.strip()
        self.registry = rec.registry_id.strip().upper()
        self.volume = _volume(rec.volume) if rec.volume else ""
        self.pages_start, self.pages_last = _pages(rec.pages) if rec.pages else (frozenset(), "")
        self.surname = _surname_key(rec.authors[0]) if rec.authors else ""
        self._authors: _Authors | None = None
        self._first_author: _Author | None | bool = False  # False: not parsed yet
        self._part: str | None = None
        self._numbers: tuple[str, ...] | None = None
        self._page_styles: frozenset[str] | None = None
        self._flags: tuple[bool, bool, bool] | None = None
        self._cochrane: tuple[str, str] | None | bool = False

    @property
    def authors(self) -> _Authors:
        if self._authors is None:
            parsed = (_parse_author(a) for a in _split_authors(self.rec.authors[:15]))
            self._authors = _Authors([a for a in parsed if a is not None])
        return self._authors

    @property
    def first_author(self) -> _Author | None:
        if self._first_author is False:
            people = self.authors.people
            self._first_author = people[0] if people else None
        return self._first_author  # type: ignore[return-value]

    @property
    def part(self) -> str:
        """The part of a series the title names ("Part II" -> "2"), or ""."""
        if self._part is None:
            m = _PART.search(self.title) if "p" in self.title or "teil" in self.title else None
            self._part = _PART_WORDS.get(m.group(1), m.group(1)) if m else ""
        return self._part

    @property
    def numbers(self) -> tuple[str, ...]:
        """The numbers in the title (digits and Roman numerals), sorted."""
        if self._numbers is None:
            self._numbers = tuple(sorted(w for w in self.title.split() if w.isdigit() or w in _ROMAN))
        return self._numbers

    @property
    def page_styles(self) -> frozenset[str]:
        if self._page_styles is None:
            self._page_styles = frozenset(_page_style(x) for x in self.pages_start)
        return self._page_styles

    def _venue_flags(self) -> tuple[bool, bool, bool]:
        if self._flags is None:
            rec = self.rec
            venue = f"{rec.journal} {rec.volume} {rec.issue}"
            # A conference abstract or supplement item: said so in the venue, or paged "S123" / "A39".
            abstract_like = bool(_SUPPLEMENT.search(venue)) or any(
                p[:1] in {"s", "a"} and p[1:].isdigit() for p in self.pages_start
            )
            full_paper = not abstract_like and _span(self.pages_start, self.pages_last) >= 2
            registry_entry = (
                bool(self.registry)
                and (not rec.journal.strip() or bool(_REGISTRY_VENUE.search(rec.journal)))
                and not self.volume
                and not self.pages_start
            )
            self._flags = (abstract_like, full_paper, registry_entry)
        return self._flags

    @property
    def abstract_like(self) -> bool:
        return self._venue_flags()[0]

    @property
    def full_paper(self) -> bool:
        """Not an abstract, and three pages or more."""
        return self._venue_flags()[1]

    @property
    def registry_entry(self) -> bool:
        """A trial-registry record (an id, no journal or a registry as journal, no volume or pages)."""
        return self._venue_flags()[2]

    @property
    def cochrane(self) -> tuple[str, str] | None:
        """(CD number, version) from a Cochrane DOI; ("", "") for a Cochrane record without one; else None."""
        if self._cochrane is False:
            m = _COCHRANE_DOI.match(self.doi)
            if m:
                self._cochrane = (m.group(1), m.group(2) or "1")
            elif "cochrane database" in self.rec.journal.lower():
                self._cochrane = ("", "")
            else:
                self._cochrane = None
        return self._cochrane  # type: ignore[return-value]

    @property
    def generic_title(self) -> bool:
        return self.title in _GENERIC_TITLES or len(self.title_words) < 2


def _surname_key(first: str) -> str:
    """The first author's surname for blocking, cheaply: the same word `_parse_author` would pick in the usual
    layouts ("Smith, J. A.", "Smith JA", "J. A. Smith"), without parsing the whole list."""
    if "," in first and first.isascii() and ";" not in first and " and " not in first:
        surname = first.split(",", 1)[0].lower()  # "Smith, J. A.", the usual layout, fast
        if surname.isalpha():
            return surname if surname not in _PARTICLES else ""
    names = _split_authors((first,))
    if not names:
        return ""
    name = names[0]
    comma = "," in name
    words = [w for w in _NON_ALNUM.split(_fold(name.split(",", 1)[0] if comma else name)) if len(w) > 1]
    words = [w for w in words if w not in _PARTICLES] or words
    if not words:
        return ""
    return max(words, key=len) if comma else words[0]


# ---------------------------------------------------------------------------------------------------------------
# Blocking
# ---------------------------------------------------------------------------------------------------------------

_BLOCK_CAP = 16  # blocks up to this size are compared all-against-all (at most 120 pairs) ...
_BLOCK_CAPS = {"y": 8}  # ... except year + first author, the widest key (prolific authors, common surnames)
_BLOCK_WINDOW = 2  # a block over its cap: each member against the next 2 in title order
_WINDOW = 1  # the sorted-neighbourhood pass over all titles: each record against the next one


def _block_keys(r: _Rec) -> list[str]:
    """The record's blocking keys; the first letter names the kind of key (see `_BLOCK_CAPS`)."""
    keys = []
    if r.doi:
        keys.append("d" + r.doi)
    if r.pmid:
        keys.append("p" + r.pmid)
    if r.registry:
        keys.append("r" + r.registry)
    words = r.title_words
    if len(words) >= 2:
        # Same start, same two longest words; words cut to their first letters, so that a typo or a spelling
        # variant near a word's end ("eculizamab", "haemolytic") does not split a block.
        keys.append("t" + " ".join([w[:5] for w in words[:3]]))
        longest = sorted(words, key=len)[-2:]
        keys.append("l" + " ".join(sorted([longest[0][:6], longest[1][:6]])))
    if r.year and r.surname:
        keys.append(f"y{r.year} {r.surname}")  # translated or reworded titles
    if r.volume and r.pages_start:
        keys.append(f"v{r.volume} {min(r.pages_start)}")  # same place in the literature
    return keys


def _candidate_pairs(recs: list[_Rec]) -> set[int]:
    """Pairs to compare, each as i * len(recs) + j with i < j (ints hash faster than tuples)."""
    n = len(recs)
    pairs: set[int] = set()

    def window(members: list[_Rec], size: int) -> None:
        members = sorted(members, key=lambda r: (r.title, r.rec.id))  # ids break ties: input order does not matter
        for k, x in enumerate(members):
            for y in members[k + 1 : k + 1 + size]:
                pairs.add(x.idx * n + y.idx if x.idx < y.idx else y.idx * n + x.idx)

    blocks: dict[str, list[_Rec]] = defaultdict(list)
    for r in recs:
        for key in _block_keys(r):
            blocks[key].append(r)
    for key, members in blocks.items():
        size = len(members)
        if size == 2:  # most blocks that are not single (members are in record order, so x.idx < y.idx)
            pairs.add(members[0].idx * n + members[1].idx)
        elif size <= _BLOCK_CAPS.get(key[0], _BLOCK_CAP):
            for k, x in enumerate(members):
                base = x.idx * n
                pairs.update(base + y.idx for y in members[k + 1 :])
        elif size > 2:
            window(members, _BLOCK_WINDOW)
    window([r for r in recs if r.title], _WINDOW)
    return pairs


# ---------------------------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Evidence:
    title: float  # 0..1, fuzz.ratio of the normalized titles
    contained: bool  # one title (>= 4 words) is contained in the other: a subtitle dropped, two languages, ...
    first_author: bool | None  # None: unknown (missing, corporate, or first authors differ but the lists agree)
    authors: float | None  # share of the shorter author list found in the other
    year_diff: int | None
    journal: bool | None
    volume: bool | None
    pages: bool | None  # same first page
    same_doi: bool
    same_pmid: bool
    same_registry: bool  # the same trial-registry id: two entries of one registration, or two papers of one trial
    doi_conflict: bool
    pmid_conflict: bool

    @property
    def same_id(self) -> bool:
        return self.same_doi or self.same_pmid

    @property
    def located(self) -> bool:
        """Same volume and first page, in the same journal as far as one can tell: one place in the literature."""
        return bool(self.volume and self.pages) and self.journal is not False


def _title_similarity(p: _Rec, q: _Rec) -> tuple[float, bool]:
    """fuzz.ratio of the normalized titles, and whether the shorter one (>= 4 words) is contained in the longer:
    a subtitle dropped, the original-language title added, a group name appended."""
    if not p.title or not q.title:
        return 0.0, False
    ratio = fuzz.ratio(p.title, q.title) / 100
    if ratio >= 0.97:
        return ratio, False
    if not _may_contain(p, q):
        return ratio, False
    short, long = (p.title, q.title) if len(p.title) <= len(q.title) else (q.title, p.title)
    return ratio, fuzz.partial_ratio(short, long) >= 97


def _may_contain(p: _Rec, q: _Rec) -> bool:
    """Cheap test before `partial_ratio`: the shorter title has 4 words or more, 80% of them in the longer."""
    short, long = (p, q) if len(p.title) <= len(q.title) else (q, p)
    words = short.word_set
    return len(short.title_words) >= 4 and len(words & long.word_set) >= 0.8 * len(words)


def _compare_fields(p: _Rec, q: _Rec) -> _Evidence | None:
    """The field-by-field agreement, or None when no rule could make the pair a candidate. Most pairs from
    blocking are plainly different, so the cheap fields are checked first and the authors last."""
    same_doi = bool(p.doi) and p.doi == q.doi
    same_pmid = bool(p.pmid) and p.pmid == q.pmid
    same_registry = bool(p.registry) and p.registry == q.registry
    title, contained = _title_similarity(p, q)
    volume = p.volume == q.volume if p.volume and q.volume else None
    year_diff = abs(p.year - q.year) if p.year and q.year else None
    if title < 0.75 and not contained and not same_doi and not same_pmid and not same_registry:
        # Only "the same place in the literature under another title" (a translation) is left to find.
        if not volume or (year_diff is not None and year_diff > 1):
            return None
        pages = _same_pages(p, q)
        if not pages:
            return None
    else:
        pages = _same_pages(p, q)
    first_author: bool | None = None
    authors: float | None = None
    if p.first_author and q.first_author:
        authors = p.authors.agreement(q.authors)
        first_author = _same_author(p.first_author, q.first_author)
        if not first_author and (p.first_author.corporate or q.first_author.corporate or authors >= 0.5):
            # A group listed first by one database only, the first author's parts swapped ("Xi, L F" / "Long,
            # F X"), or an erratum listing only the author it corrects: the rest of the list decides.
            first_author = None
    return _Evidence(
        title=title,
        contained=contained,
        first_author=first_author,
        authors=authors,
        year_diff=year_diff,
        journal=_journals_compatible(p.rec.journal, q.rec.journal) if p.rec.journal and q.rec.journal else None,
        volume=volume,
        pages=pages,
        same_doi=same_doi,
        same_pmid=same_pmid,
        same_registry=same_registry,
        doi_conflict=bool(p.doi) and bool(q.doi) and p.doi != q.doi,
        pmid_conflict=bool(p.pmid) and bool(q.pmid) and p.pmid != q.pmid,
    )


def _describe(e: _Evidence) -> str:
    parts = []
    if e.same_doi:
        parts.append("same DOI")
    if e.same_pmid:
        parts.append("same PMID")
    if e.same_registry:
        parts.append("same registry id")
    parts.append(f"title {e.title:.2f}" + (" (one contains the other)" if e.contained else ""))
    if e.authors is not None:
        parts.append(f"authors {e.authors:.2f}")
    if e.year_diff is not None:
        parts.append("same year" if e.year_diff == 0 else f"years {e.year_diff} apart")
    same = [n for n, v in (("journal", e.journal), ("volume", e.volume), ("pages", e.pages)) if v]
    if same:
        parts.append("same " + ", ".join(same))
    differ = [n for n, v in (("journal", e.journal), ("volume", e.volume), ("pages", e.pages)) if v is False]
    if differ:
        parts.append("different " + ", ".join(differ))
    if e.doi_conflict:
        parts.append("different DOIs")
    if e.pmid_conflict:
        parts.append("different PMIDs")
    return ", ".join(parts)


def _score(e: _Evidence) -> float:
    """A 0..1 summary of the agreement, for ordering the queue; decisions are made by the rules in `_decide`."""
    total, weight = 0.5 * max(e.title, 0.97 if e.contained else 0.0), 0.5
    if e.authors is not None:
        total += 0.2 * e.authors
        weight += 0.2
    if e.year_diff is not None:
        total += 0.1 * (1.0 if e.year_diff == 0 else 0.5 if e.year_diff == 1 else 0.0)
        weight += 0.1
    for value in (e.journal, e.volume, e.pages):
        if value is not None:
            total += 0.05 * value
            weight += 0.05
    if e.same_id:
        total += 0.15
        weight += 0.15
    elif e.doi_conflict or e.pmid_conflict:
        weight += 0.15
    return round(total / weight, 3)


def _traps(p: _Rec, q: _Rec, e: _Evidence) -> list[str]:
    """Why this pair must not be merged without a person, even if the fields agree."""
    why = []
    if p.kind != q.kind:
        why.append(f"{' / '.join(sorted(p.kind ^ q.kind))} vs the paper it concerns")
    # Parts of a series, phases, editions and yearly updates differ in a number; at the same volume and page
    # they cannot be different parts.
    if p.part != q.part and not e.located:
        why.append("one title names a part of a series")
    elif p.numbers != q.numbers and not e.located:
        why.append("titles differ in a number")
    if p.registry_entry != q.registry_entry:
        why.append("registry entry vs a publication of the study")
    if (p.cochrane or q.cochrane) and not e.same_doi:
        # Updates of a Cochrane review keep the title and the CD number; only the DOI's .pubN and the
        # year/issue tell them apart.
        if e.doi_conflict or e.year_diff or _issues_differ(p, q) or e.pages is False:
            why.append("Cochrane review versions (different DOI, year or issue)")
    if (p.abstract_like and q.full_paper or q.abstract_like and p.full_paper) and not e.located:
        why.append("conference abstract vs full paper")
    if p.generic_title or q.generic_title:
        why.append("generic title")
    return why


def _issues_differ(p: _Rec, q: _Rec) -> bool:
    a, b = p.rec.issue.strip().lower(), q.rec.issue.strip().lower()
    return bool(a) and bool(b) and a != b


def _decide(p: _Rec, q: _Rec) -> tuple[Decision, float, str] | None:
    e = _compare_fields(p, q)
    if e is None or (p.part and q.part and p.part != q.part):
        return None  # "Part I" and "Part II" are different papers, however alike
    traps = _traps(p, q, e)
    reason = _describe(e)
    score = _score(e)
    year_ok = e.year_diff is None or e.year_diff <= 1
    conflict = e.doi_conflict or e.pmid_conflict or e.volume is False or e.pages is False
    nothing_else = e.journal is None and e.volume is None and e.pages is None and not (p.doi and q.doi)
    abstracts = p.abstract_like or q.abstract_like  # several abstracts share a page

    if not traps and year_ok:
        # A shared identifier with the same title. The title check is what catches a DOI shared by a whole
        # supplement or typed into the wrong record; the volume may be garbled, the pages may not differ.
        if e.same_id and (e.title >= 0.9 or e.contained) and e.pages is not False and not e.pmid_conflict:
            return "auto", score, reason
        # One registration imported twice (from the registry and from CENTRAL, say). Two *papers* with one
        # registry id are two reports of a trial, not duplicates: that is left to the title rules.
        if e.same_registry and p.registry_entry and q.registry_entry and e.title >= 0.9:
            return "auto", score, reason
        if not conflict:
            # The same place in the literature (journal, volume, first page), the same first author, and a title
            # that agrees (or contains the other: a subtitle or the original-language title added).
            if (
                e.located
                and e.first_author
                and (e.title >= 0.95 or (not abstracts and (e.title >= 0.85 or e.contained)))
            ):
                return "auto", score, reason
            # The same volume and first page under another journal name (a book series vs the book's title, a
            # journal's section): with the same title, first author and year, the journal field is what is wrong.
            if e.volume and e.pages and e.first_author and e.year_diff == 0 and e.title >= 0.95:
                return "auto", score, reason
            # Located but the authors are missing, corporate or formatted beyond recognition: an exact title.
            if e.located and e.first_author is not False and e.year_diff == 0 and e.title >= 0.97:
                return "auto", score, reason
            # Same title, first author, year and journal, nothing contradicting (volume/pages missing on a side).
            if e.title >= 0.95 and e.first_author and e.year_diff == 0 and e.journal:
                return "auto", score, reason
            # Nothing but title, authors and year on either side (conference papers, reports): all must agree.
            if nothing_else and e.title >= 0.98 and e.first_author and e.year_diff == 0 and (e.authors or 0) >= 0.8:
                return "auto", score, reason

    # Plausible: queue for a person, unless the publication details say these are two publications: two of
    # journal, volume, first page and DOI differ (an abstract and its paper, one abstract at two meetings, a
    # column that recurs every year). One difference alone is common in duplicates (a typo, a garbled field).
    if not e.same_id and [e.journal, e.volume, e.pages, not e.doi_conflict].count(False) >= 2:
        return None
    title_close = e.title >= 0.85 or e.contained
    pending = (
        (title_close and e.first_author is not False and (e.year_diff is None or e.year_diff <= 2))
        or (e.same_id and (e.title >= 0.6 or bool(e.first_author)))
        # the same place in the literature under another title (a translation), unless several abstracts
        # share that page
        or (e.located and year_ok and e.first_author is not False and (not abstracts or e.title >= 0.75))
        or (e.title >= 0.75 and bool(e.first_author) and e.year_diff == 0 and e.journal is not False)
    )
    if not pending:
        return None
    if traps:
        reason += "; " + "; ".join(traps)
    return "pending", score, reason


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, x: int, y: int) -> int:
        """Join the groups of x and y; returns the new root (the smaller id, so results are deterministic)."""
        rx, ry = self.find(x), self.find(y)
        root = min(rx, ry)
        self.parent[rx] = self.parent[ry] = root
        return root


def find_duplicates(
    records: Iterable[DedupeRecord], *, known_distinct: Collection[frozenset[int]] = ()
) -> list[Candidate]:
    """Pairs that may be the same publication. Pairs in known_distinct (a person said 'not duplicates') are never
    returned.

    Auto pairs are all returned. Pending pairs are left out when they add nothing for a person to decide: both
    records are already in one auto-merged group, a person has said a record of one group is distinct from a
    record of the other, or a better-scoring pending pair already joins the same two groups.
    """
    distinct: dict[int, set[int]] = defaultdict(set)  # record id -> ids a person said it is not a duplicate of
    for pair in known_distinct:
        if len(pair) == 2:
            x, y = pair
            distinct[x].add(y)
            distinct[y].add(x)
    # This allocates a few containers per record and frees none until the end: the cyclic garbage collector
    # would only rescan them over and over.
    collecting = gc.isenabled()
    gc.disable()
    try:
        decided = _decide_pairs([_Rec(i, r) for i, r in enumerate(records)], distinct)
    finally:
        if collecting:
            gc.enable()
    return _resolve(decided, distinct)


_Decided = tuple[Decision, float, str, int, int]  # decision, score, reason, a, b


def _decide_pairs(recs: list[_Rec], distinct: dict[int, set[int]]) -> list[_Decided]:
    decided: list[_Decided] = []
    # The fast path below runs for every candidate pair (several per record), so what it needs is in plain lists.
    titles = [r.title for r in recs]
    lengths = [len(t) for t in titles]
    signatures = [r.signature for r in recs]
    ids = [frozenset(x for x in (r.doi, r.pmid and "pmid:" + r.pmid, r.registry) if x) for r in recs]
    volumes = [r.volume for r in recs]
    ratio = fuzz.ratio

    def may_be_within(i: int, j: int) -> bool:
        """`_may_contain` for title i in title j, on the signature bits: a word of i missing from j is a bit
        missing, or one hidden by a collision (which only lets more pairs through to the exact test)."""
        r = recs[i]
        return len(r.title_words) >= 4 and (signatures[i] & ~signatures[j]).bit_count() * 5 <= len(r.word_set)

    n = len(recs)
    for pair in _candidate_pairs(recs):
        i, j = divmod(pair, n)
        # Most pairs have no similar title and none of the other signals `_compare_fields` looks at: a shared
        # identifier, the same volume and first page, or one title within the other. A title contained in the
        # other (partial_ratio >= 97) with a ratio under 0.75 is shorter than 0.64 of the other's length.
        if not ratio(titles[i], titles[j], score_cutoff=75):
            li, lj = lengths[i], lengths[j]
            if (
                ids[i].isdisjoint(ids[j])
                and not (volumes[i] and volumes[i] == volumes[j] and _same_place(recs[i], recs[j]))
                and not (100 * li < 64 * lj and may_be_within(i, j))
                and not (100 * lj < 64 * li and may_be_within(j, i))
            ):
                continue
        p, q = recs[i], recs[j]
        a, b = p.rec.id, q.rec.id
        if a == b or b in distinct.get(a, ()):
            continue
        verdict = _decide(p, q)
        if verdict is not None:
            decision, score, reason = verdict
            decided.append((decision, score, reason, min(a, b), max(a, b)))
    return decided


def _same_place(p: _Rec, q: _Rec) -> bool | None:
    """Same first page within a year (volumes already agree): `_compare_fields`' test for a translated title."""
    return (not p.year or not q.year or -1 <= p.year - q.year <= 1) and _same_pages(p, q)


def _resolve(decided: list[_Decided], distinct: dict[int, set[int]]) -> list[Candidate]:
    """Candidates from the pair decisions. Auto pairs are joined into groups best first, except one that would put
    two records a person called distinct into one group (it is dropped: the person has answered for the groups).
    Then one pending pair per two groups, the best: a person decides once whether two groups are one work."""
    decided.sort(key=lambda d: (d[0] != "auto", -d[1], d[3], d[4]))
    groups = _UnionFind()
    members: dict[int, set[int]] = {}  # group root -> record ids, kept only when someone was called distinct
    out: list[Candidate] = []
    asked: set[tuple[int, int]] = set()

    def apart(ra: int, rb: int) -> bool:
        if not distinct:
            return False
        xs, ys = members.get(ra, {ra}), members.get(rb, {rb})
        return any(not distinct.get(x, set()).isdisjoint(ys) for x in xs)

    for decision, score, reason, a, b in decided:
        ra, rb = groups.find(a), groups.find(b)
        if decision == "auto":
            if ra != rb:
                if apart(ra, rb):
                    continue
                root = groups.union(ra, rb)
                if distinct:
                    members[root] = members.pop(ra, {ra}) | members.pop(rb, {rb})
            out.append(Candidate(a, b, score, "auto", reason))
            continue
        key = (min(ra, rb), max(ra, rb))
        if ra == rb or key in asked or apart(ra, rb):
            continue
        asked.add(key)
        out.append(Candidate(a, b, score, "pending", reason))
    return out


def group_candidates(cands: Iterable[Candidate], decision: Decision | None = None) -> list[set[int]]:
    """Connected components (union-find) of the candidate pairs, or of those with one `decision`: the groups
    of records that would be merged. Singletons are not listed."""
    groups = _UnionFind()
    for cand in cands:
        if decision is None or cand.decision == decision:
            groups.union(cand.a, cand.b)
    components: dict[int, set[int]] = defaultdict(set)
    for x in list(groups.parent):
        components[groups.find(x)].add(x)
    return [c for c in components.values() if len(c) > 1]
