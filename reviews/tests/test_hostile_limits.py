"""Hostile input to the importers, part 2: the worst cases for memory and time (issue 10, part 3).

Each case runs in a fresh interpreter under an address-space limit, so that a blow-up fails the test with
MemoryError instead of taking the machine, and with a generous timeout that only detects a hang (it is not a
timing assertion: every case needs a small fraction of it). Inputs stay within the upload limit.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reviews.importers import FORMATS
from reviews.importers.base import MAX_MESSAGE

REPO = Path(__file__).resolve().parents[2]
GENERIC_FALLBACK = "could not be read after record"

HANG_SECONDS = 60  # a hang detector, not a timing assertion: every case needs a small fraction of it
MEMORY_LIMIT_MB = 3072  # address space of the child: a blow-up fails with MemoryError instead of taking the host


def run_isolated(code: str) -> dict:
    """Run `code` (which sets `result`) in a fresh interpreter under an address-space limit; its `result` and
    peak resident memory."""
    script = (
        textwrap.dedent(
            f"""
        import json, resource, sys
        # Linux keeps a process's peak RSS across fork and exec (ru_maxrss, VmHWM): started from a pytest process
        # that has grown to hundreds of MB, the child would report the parent's peak. Reset it (Linux 4.0+).
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        limit = {MEMORY_LIMIT_MB} * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from reviews.importers import ImportFormatError, iter_records, parse_file
        result = None
        """
        )
        + textwrap.dedent(code)
        + textwrap.dedent(
            """
        with open("/proc/self/status") as status:
            peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024
        print(json.dumps({"result": result, "peak_mb": peak}))
        """
        )
    )
    try:
        finished = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=HANG_SECONDS
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"a parser hung (no answer within {HANG_SECONDS} s) on:\n{code}")
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


WORST_CASES = {
    # name: (expression making the bytes, formats to force; None = detect)
    "10 MB single line": ("b'a' * 10_000_000", [None, *FORMATS]),
    "10 MB field": ("b'TY  - JOUR\\nTI  - ' + b'x' * 10_000_000 + b'\\nER  - \\n'", ["ris"]),
    "10 MB of separators": ("b'title,year\\n' + b',' * 10_000_000", ["tabular"]),
    "10 MB unclosed quote": ("b'title,year\\n\"' + b'x' * 10_000_000", ["tabular"]),
    "deep JSON arrays": ("b'[' * 1_000_000", ["ctgov_json"]),
    "deep JSON in a study": ("b'{\"studies\":[{\"protocolSection\":' + b'{\"a\":' * 200_000", ["ctgov_json"]),
    "deep EndNote XML": ("b'<xml><records><record>' + b'<a>' * 200_000 + b'</a>' * 200_000 + "
                         "b'</record></records></xml>'", ["endnote_xml"]),
    "deep ICTRP XML": ("b'<Trials_downloaded_from_ICTRP><Trial>' + b'<a>' * 200_000 + b'</a>' * 200_000 + "
                       "b'</Trial></Trials_downloaded_from_ICTRP>'", ["ictrp_xml"]),
    "BibTeX blocks never closed": ("b'@article{' * 100_000", ["bibtex"]),
    "BibTeX with more blocks than read": ("b'@a{k,title={t}}\\n' * 300_000", ["bibtex"]),
    "BibTeX braces never closed": ("b'@article{x, title={' + b'{' * 1_000_000", ["bibtex"]),
    "RIS records never ended": ("b'TY  - JOUR\\n' * 200_000", ["ris"]),
    "100,000 authors": ("b'TY  - JOUR\\nTI  - x\\n' + b'AU  - Smith, J.\\n' * 100_000 + b'ER  - \\n'", ["ris"]),
    "MEDLINE continuation": ("b'PMID- 1\\nTI  - x\\n' + b'      more\\n' * 500_000", ["pubmed"]),
    "Web of Science continuation": ("b'FN x\\nVR 1.0\\nPT J\\nTI x\\n' + b'   more\\n' * 500_000 + b'ER\\nEF\\n'",
                                    ["wos"]),
    "EndNote tagged authors": ("b'%0 Journal Article\\n%T x\\n' + b'%A Smith, J\\n' * 500_000", ["refer"]),
    "initials that backtrack": ("b'TY  - JOUR\\nTI  - x\\nAU  - ' + b'A.' * 200_000 + b'\\nER  - \\n'", ["ris"]),
    "DOI-like run": ("b'TY  - JOUR\\nTI  - x\\nDO  - ' + b'10.1234' * 500_000 + b'\\nER  - \\n'", ["ris"]),
    "years everywhere": ("b'title,year\\nx,' + b'1999' * 30_000 + b'\\n'", ["tabular"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(WORST_CASES))
def test_worst_cases_finish_within_memory(case):
    expression, formats = WORST_CASES[case]
    outcome = run_isolated(
        f"""
        data = {expression}
        result = []
        for fmt in {formats!r}:
            try:
                name, records = parse_file(data, filename="upload.txt", format=fmt)
                result.append(["ok", len(records)])
            except ImportFormatError as exc:
                result.append(["refused", exc.message, len(str(exc))])
        """
    )
    for verdict in outcome["result"]:
        if verdict[0] == "refused":
            assert verdict[1].strip() and verdict[2] <= MAX_MESSAGE + 40, verdict
            assert GENERIC_FALLBACK not in verdict[1], verdict
        else:
            assert verdict[1] >= 1
    # Several copies of a 10 MB input are expected; gigabytes are a blow-up.
    assert outcome["peak_mb"] < 1024, outcome


def test_a_million_tiny_records_stream_within_memory():
    """A million records (within the upload limit) are read one by one: memory follows the file's text, not the
    number of records."""
    outcome = run_isolated(
        """
        data = b"TY  - JOUR\\nTI  - t\\nER  - \\n" * 1_000_000
        name, records = iter_records(data, filename="many.ris")
        result = sum(1 for _ in records)
        """
    )
    assert outcome["result"] == 1_000_000
    assert outcome["peak_mb"] < 512, outcome
