"""`make audit`: Django's deployment checks on the production settings, pip-audit over the installed packages and
bandit over the application code, each finding either fixed or listed with a dated reason in
security-exceptions.toml. Run as `python -m core.security_audit`; exits non-zero on any finding not excepted.

Written by hand because no tool matches bandit and pip-audit findings against one reviewed, dated list of
exceptions (bandit's `# nosec` carries no reason or date; pip-audit's --ignore-vuln no reason).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS = ROOT / "security-exceptions.toml"
APPS = ["config", "core", "reviews", "screening", "extraction", "synthesis", "grading", "exports"]
STALE_AFTER = dt.timedelta(days=365)


@dataclass
class Outcome:
    name: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: int = 0

    @property
    def status(self) -> str:
        if self.failures:
            return "FAILED"
        return f"clean, but {self.unchecked} not checked" if self.unchecked else "clean"


def _run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603


def check_deploy() -> Outcome:
    outcome = Outcome("manage.py check --deploy (production settings)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "audit-only-" + secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "sieve.example.org"),
    }
    done = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env)
    text = (done.stdout + done.stderr).strip()
    if done.returncode:
        outcome.failures.append(text)
    else:
        outcome.notes.append(text.splitlines()[-1] if text else "no issues")
    return outcome


def _reviewed(entry: dict[str, object], where: str, outcome: Outcome, today: dt.date) -> None:
    reviewed = entry.get("reviewed")
    if not isinstance(reviewed, dt.date) or not str(entry.get("reason", "")).strip():
        outcome.failures.append(f"{EXCEPTIONS.name}: {where} needs a reason and a reviewed date (YYYY-MM-DD)")
    elif today - reviewed > STALE_AFTER:
        outcome.failures.append(f"{EXCEPTIONS.name}: {where} was reviewed on {reviewed}, over a year ago: look again")


def bandit(exceptions: list[dict[str, object]], today: dt.date) -> Outcome:
    outcome = Outcome("bandit (application code, tests and migrations excluded)")
    done = _run(
        [sys.executable, "-m", "bandit", "-r", *APPS, "-x", "*/tests/*,*/migrations/*", "-f", "json", "-q"],
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        outcome.failures.append(f"bandit did not run: {done.stderr.strip() or done.stdout.strip()}")
        return outcome
    used: set[int] = set()
    excepted = 0
    for result in report.get("results", []):
        key = (result["test_id"], result["filename"].removeprefix("./"))
        match = next((i for i, e in enumerate(exceptions) if (e.get("test"), e.get("file")) == key), None)
        where = f"{key[1]}:{result['line_number']}"
        if match is None:
            outcome.failures.append(f"{where} {key[0]} ({result['issue_severity']}): {result['issue_text']}")
        else:
            used.add(match)
            excepted += 1
    for i, entry in enumerate(exceptions):
        where = f"bandit {entry.get('test')} in {entry.get('file')}"
        if i not in used:
            outcome.failures.append(f"{EXCEPTIONS.name}: {where} matches nothing any more: delete it")
        _reviewed(entry, where, outcome, today)
    metrics = report.get("metrics", {}).get("_totals", {})
    outcome.notes.append(
        f"{len(report.get('results', []))} findings, {excepted} of them excepted by {len(used)} dated entries, "
        f"{metrics.get('loc', '?')} lines scanned"
    )
    return outcome


def pip_audit(exceptions: list[dict[str, object]], today: dt.date) -> Outcome:
    outcome = Outcome("pip-audit (installed packages)")
    done = _run([sys.executable, "-m", "pip_audit", "--local", "--format", "json", "--progress-spinner", "off"])
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        # Most often no route to the vulnerability service (a closed network): nothing was checked, which is
        # not a finding but must not read as clean either.
        outcome.unchecked = 1
        outcome.notes.append(f"NOT CHECKED: pip-audit could not run: {done.stderr.strip()[-500:]}")
        if os.environ.get("AUDIT_STRICT"):
            outcome.failures.append("pip-audit could not run (AUDIT_STRICT is set)")
        return outcome
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if d.get("skip_reason")]
    used: set[int] = set()
    for dep in deps:
        for vuln in dep.get("vulns", []):
            ids = {vuln["id"], *vuln.get("aliases", [])}
            match = next(
                (i for i, e in enumerate(exceptions) if e.get("id") in ids and e.get("package") == dep["name"]),
                None,
            )
            if match is None:
                fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release"
                outcome.failures.append(f"{dep['name']} {dep.get('version')}: {vuln['id']} (fixed in {fixed})")
            else:
                used.add(match)
    for i, entry in enumerate(exceptions):
        where = f"pip-audit {entry.get('id')} in {entry.get('package')}"
        if i not in used:
            outcome.failures.append(f"{EXCEPTIONS.name}: {where} matches nothing any more: delete it")
        _reviewed(entry, where, outcome, today)
    audited = len(deps) - len(skipped)
    outcome.notes.append(f"{audited} of {len(deps)} packages checked against the vulnerability database")
    outcome.unchecked = len(skipped)
    if skipped:
        # A package index that is a private mirror may not answer the JSON API pip-audit asks; say so loudly
        # rather than report a clean result for packages nobody checked.
        outcome.notes.append(
            f"NOT CHECKED: {len(skipped)} packages ({skipped[0]['skip_reason']}; ...). "
            "Run `make audit` where pypi.org's JSON API answers, or set AUDIT_STRICT=1 to fail on this."
        )
        if os.environ.get("AUDIT_STRICT"):
            outcome.failures.append(f"{len(skipped)} packages could not be checked (AUDIT_STRICT is set)")
    return outcome


def main() -> int:
    exceptions = tomllib.loads(EXCEPTIONS.read_text(encoding="utf-8"))
    today = dt.datetime.now(dt.UTC).date()
    outcomes = [
        check_deploy(),
        pip_audit(exceptions.get("pip_audit", []), today),
        bandit(exceptions.get("bandit", []), today),
    ]
    for outcome in outcomes:
        print(f"\n== {outcome.name}: {outcome.status}")
        for line in outcome.notes:
            print(f"   {line}")
        for line in outcome.failures:
            print(f" ! {line}")
    failed = sum(bool(o.failures) for o in outcomes)
    unchecked = sum(o.unchecked for o in outcomes)
    summary = "FAILED" if failed else f"clean, with {unchecked} packages not checked" if unchecked else "clean"
    print(f"\nmake audit: {summary} ({len(outcomes) - failed} of {len(outcomes)} checks without findings)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
