"""`make audit` matches findings against the dated exceptions: an unlisted finding, a stale entry and an entry that
matches nothing each fail it."""

import datetime as dt
import json
import subprocess
import tomllib

from core import security_audit

TODAY = dt.date(2026, 12, 2)


def _bandit_report(*findings: tuple[str, str, int]) -> str:
    results = [
        {"test_id": t, "filename": f"./{f}", "line_number": n, "issue_severity": "LOW", "issue_text": "x"}
        for t, f, n in findings
    ]
    return json.dumps({"results": results, "metrics": {"_totals": {"loc": 10}}})


def _fake_run(monkeypatch, stdout: str) -> None:
    monkeypatch.setattr(security_audit, "_run", lambda argv, env=None: subprocess.CompletedProcess(argv, 0, stdout, ""))


def test_every_exception_on_file_has_a_reason_and_a_date():
    listed = tomllib.loads(security_audit.EXCEPTIONS.read_text(encoding="utf-8"))
    entries = listed["bandit"] + listed.get("pip_audit", [])
    assert entries
    for entry in entries:
        assert str(entry["reason"]).strip() and isinstance(entry["reviewed"], dt.date), entry


def test_a_finding_listed_with_a_reason_passes_and_an_unlisted_one_fails(monkeypatch):
    listed = [{"test": "B608", "file": "a.py", "reason": "names from _meta", "reviewed": TODAY}]
    _fake_run(monkeypatch, _bandit_report(("B608", "a.py", 3), ("B608", "a.py", 9)))
    assert security_audit.bandit(listed, TODAY).failures == []
    _fake_run(monkeypatch, _bandit_report(("B608", "a.py", 3), ("B602", "b.py", 4)))
    failures = security_audit.bandit(listed, TODAY).failures
    assert len(failures) == 1 and failures[0].startswith("b.py:4 B602")


def test_a_stale_or_unused_exception_fails(monkeypatch):
    old = TODAY - dt.timedelta(days=400)
    listed = [
        {"test": "B608", "file": "a.py", "reason": "names from _meta", "reviewed": old},
        {"test": "B101", "file": "gone.py", "reason": "fixed since", "reviewed": TODAY},
    ]
    _fake_run(monkeypatch, _bandit_report(("B608", "a.py", 3)))
    failures = security_audit.bandit(listed, TODAY).failures
    assert any("over a year ago" in f for f in failures)
    assert any("gone.py matches nothing" in f for f in failures)


def test_a_known_vulnerability_fails_unless_excepted_and_unchecked_packages_are_said(monkeypatch):
    report = {
        "dependencies": [
            {
                "name": "pkg",
                "version": "1.0",
                "vulns": [{"id": "GHSA-1", "aliases": ["CVE-1"], "fix_versions": ["1.1"]}],
            },
            {"name": "other", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    _fake_run(monkeypatch, json.dumps(report))
    outcome = security_audit.pip_audit([], TODAY)
    assert outcome.failures == ["pkg 1.0: GHSA-1 (fixed in 1.1)"]
    assert outcome.unchecked == 1 and "NOT CHECKED: 1 packages" in outcome.notes[-1]
    listed = [{"id": "CVE-1", "package": "pkg", "reason": "feature unused", "reviewed": TODAY}]
    outcome = security_audit.pip_audit(listed, TODAY)
    assert outcome.failures == [] and outcome.status == "clean, but 1 not checked"


def test_no_route_to_the_vulnerability_service_is_said_not_called_clean(monkeypatch):
    monkeypatch.setattr(
        security_audit,
        "_run",
        lambda argv, env=None: subprocess.CompletedProcess(argv, 1, "", "ConnectionError: api.osv.dev"),
    )
    outcome = security_audit.pip_audit([], TODAY)
    assert outcome.status.startswith("clean, but") and "ConnectionError" in outcome.notes[-1]
    monkeypatch.setenv("AUDIT_STRICT", "1")
    assert security_audit.pip_audit([], TODAY).status == "FAILED"
