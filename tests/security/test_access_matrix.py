"""Who may do what, over every URL of the project: each page, htmx endpoint, API endpoint and export, for an
anonymous visitor, an outsider (dave, owner of another review), a reviewer (carol), an editor (bob) and the owner
(alice) of a review holding one object of every kind (tests/security/world.py).

The patterns come from the URL resolver, so a new view cannot escape: `test_every_pattern_has_an_expectation`
fails until it is listed in EXPECT below (or in EXCLUDED). Outcome classes: a refused anonymous visitor is sent to
the login page (pages) or gets 401/403 (API); a refused outsider gets 404 and a body that names nothing of the
review; a member whose role is too small gets 403 or 404; an allowed role gets past the access check (any status
but 401, 403, 404, 405 and 5xx: a 400/409/422 is the app judging the body, after the check). A refused write
leaves the database as it was (tests/security/requests_.fingerprint); every request runs in a savepoint that is
rolled back, so each sees the same seeded data. Methods a pattern does not list answer 405.

Roles (README "Roles"): reviewer < editor < owner. "self": only the member whose object the URL names (carol's
own decision, extraction or assessment: the editor reads them, but nobody writes them for her). "uploader": only
the user who uploaded the review file (exports' transfers belong to a user, not a review). "login": any logged-in
user. "public": anyone. "editor?": editors and owners, who may get 404 when there is nothing to draw (a funnel
plot needs 10 studies; the seeded review has one)."""

from typing import Any

import pytest

from tests.security.requests_ import (
    API_METHODS,
    PAGE_METHODS,
    ROLES,
    clients,
    fingerprint,
    request_rolled_back,
)
from tests.security.urls_walk import Pattern, patterns, url_for

pytestmark = pytest.mark.django_db

R, E, O = "reviewer", "editor", "owner"  # noqa: E741 - the table reads better with one letter
LOGIN, PUBLIC, SELF, UPLOADER, E_NODATA = "login", "public", "self", "uploader", "editor?"

# Outside the matrix: logout, which ends the session the matrix's clients use (tests/security/test_sessions.py
# covers it).
EXCLUDED = {"logout": "ends the session; test_sessions.py"}

# {URL name: {method: who may}}. Pages: GET and POST; API: GET, POST, PUT, PATCH, DELETE. A method not listed
# must answer 405. Several read-only pages answer a POST like a GET (Django function views without
# require_GET): listed so, and the matrix shows that it writes nothing.
EXPECT: dict[str, dict[str, str]] = {
    # public by design: the health probe and the ways in
    "healthz": {"GET": PUBLIC},
    "login": {"GET": PUBLIC, "POST": PUBLIC},
    "signup": {"GET": PUBLIC, "POST": PUBLIC},
    "api-token": {"POST": PUBLIC},
    "home": {"GET": LOGIN, "POST": LOGIN},
    "password_change": {"GET": LOGIN, "POST": LOGIN},
    "password_change_done": {"GET": LOGIN},
    # reviews and members
    "reviews:list": {"GET": LOGIN, "POST": LOGIN},
    "reviews:create": {"GET": LOGIN, "POST": LOGIN},
    "reviews:detail": {"GET": R, "POST": R},
    "reviews:edit": {"GET": O, "POST": O},
    "reviews:delete": {"GET": O, "POST": O},
    "reviews:members": {"GET": R, "POST": R},
    "reviews:member_add": {"POST": O},
    "reviews:member_role": {"POST": O},
    "reviews:member_remove": {"POST": O},
    "reviews:activity": {"GET": O},
    "reviews:imports": {"GET": R, "POST": E},
    "reviews:import_detail": {"GET": R, "POST": R},
    "reviews:records": {"GET": R, "POST": R},
    "reviews:record_detail": {"GET": R, "POST": R},
    "reviews:duplicates": {"GET": R, "POST": R},
    "reviews:duplicate_merge": {"POST": E},
    "reviews:duplicate_split": {"POST": E},
    # screening
    "screening:settings": {"GET": O, "POST": O},
    "screening:screen": {"GET": R, "POST": R},
    "screening:decide": {"POST": R},
    "screening:undo": {"POST": R},
    "screening:order": {"POST": R},
    "screening:mine": {"GET": R, "POST": R},
    "screening:change": {"POST": SELF},
    "screening:conflicts": {"GET": E, "POST": E},
    "screening:resolve": {"POST": E},
    "screening:prisma": {"GET": E, "POST": E},
    "screening:fulltext": {"GET": R, "POST": R},
    "screening:fulltext_change": {"POST": R},
    # studies, reports, arms, outcomes, comparisons
    "extraction:studies": {"GET": R, "POST": R},
    "extraction:study_create": {"POST": E},
    "extraction:studies_from_included": {"POST": E},
    "extraction:study": {"GET": R, "POST": E},
    "extraction:study_delete": {"POST": E},
    "extraction:extract_start": {"POST": R},
    "extraction:consensus_start": {"POST": E},
    "extraction:report_add": {"POST": E},
    "extraction:report_primary": {"POST": E},
    "extraction:report_remove": {"POST": E},
    "extraction:arm_add": {"POST": E},
    "extraction:arm_edit": {"POST": E},
    "extraction:arm_delete": {"POST": E},
    "extraction:outcomes": {"GET": R, "POST": R},
    "extraction:outcome_add": {"POST": E},
    "extraction:outcome_edit": {"POST": E},
    "extraction:outcome_delete": {"POST": E},
    "extraction:comparison_add": {"POST": E},
    "extraction:comparison_edit": {"POST": E},
    "extraction:comparison_delete": {"POST": E},
    # extraction (carol's own; editors read it)
    "extraction:extract": {"GET": R, "POST": SELF},
    "extraction:extract_save": {"POST": SELF},
    "extraction:extract_status": {"POST": SELF},
    "extraction:extract_row_add": {"POST": R},
    "extraction:extract_row_remove": {"POST": R},
    "extraction:extract_upgrade": {"POST": SELF},
    "extraction:history": {"GET": R, "POST": R},
    "extraction:consensus": {"GET": E, "POST": E},
    "extraction:discrepancy_resolve": {"POST": E},
    "extraction:settings": {"GET": O, "POST": O},
    "extraction:export": {"GET": E, "POST": E},
    # extraction forms
    "extraction:forms": {"GET": R},
    "extraction:form_create": {"POST": E},
    "extraction:form_create_default": {"POST": E},
    "extraction:form_builder": {"GET": R},
    "extraction:form_new_draft": {"POST": E},
    "extraction:form_publish": {"POST": E},
    "extraction:form_delete": {"POST": E},
    "extraction:form_reorder": {"POST": E},
    "extraction:form_move": {"POST": E},
    "extraction:form_section_add": {"POST": E},
    "extraction:form_section": {"GET": E, "POST": E},
    "extraction:form_section_delete": {"POST": E},
    "extraction:form_field_add": {"POST": E},
    "extraction:form_field": {"GET": E, "POST": E},
    "extraction:form_field_delete": {"POST": E},
    # outcome summaries
    "synthesis:analyses": {"GET": E},
    "synthesis:analysis": {"GET": E},
    "synthesis:analysis_status": {"GET": E},
    "synthesis:analysis_settings": {"POST": E},
    # risk of bias
    "rob:overview": {"GET": R, "POST": R},
    "rob:settings": {"GET": O, "POST": O},
    "rob:start": {"POST": R},
    "rob:traffic_light": {"GET": E, "POST": E},
    "rob:summary_bar": {"GET": E, "POST": E},
    "rob:assess": {"GET": R, "POST": R},
    "rob:domain_save": {"POST": SELF},
    "rob:overall_save": {"POST": SELF},
    "rob:status": {"POST": SELF},
    "rob:history": {"GET": R, "POST": R},
    "rob:consensus": {"GET": E, "POST": E},
    "rob:consensus_start": {"POST": E},
    "rob:discrepancy_resolve": {"POST": E},
    # certainty and summary of findings
    "certainty:list": {"GET": E, "POST": E},
    "certainty:rate": {"GET": E, "POST": E},
    "certainty:sign_off": {"POST": E},
    "certainty:rob_plot": {"GET": E, "POST": E},
    "certainty:sof": {"GET": E, "POST": E},
    # exports and review files
    "exports:page": {"GET": R, "POST": R},
    "exports:import": {"GET": LOGIN, "POST": LOGIN},
    "exports:import_status": {"GET": UPLOADER, "POST": UPLOADER},
    # API: reviews, members, imports, records, duplicates
    "api-review-list": {"GET": LOGIN, "POST": LOGIN},
    "api-review-detail": {"GET": R, "PATCH": O, "DELETE": O},
    "api-member-list": {"GET": R, "POST": O},
    "api-member-detail": {"GET": R, "PATCH": O, "DELETE": O},
    "api-activity-list": {"GET": O},
    "api-import-list": {"GET": R, "POST": E},
    "api-import-detail": {"GET": R},
    "api-record-list": {"GET": R},
    "api-record-detail": {"GET": R},
    "api-duplicate-list": {"GET": R},
    "api-duplicate-merge": {"POST": E},
    "api-duplicate-detail": {"GET": R},
    "api-duplicate-split": {"POST": E},
    # API: screening
    "api-screening-settings": {"GET": R, "PATCH": O},
    "api-screening-next": {"GET": R},
    "api-decision-list": {"GET": R, "POST": R},
    "api-decision-detail": {"PATCH": SELF, "DELETE": SELF},
    "api-screening-agreement": {"GET": E},
    "api-conflict-list": {"GET": E},
    "api-conflict-resolve": {"POST": E},
    "api-fulltext": {"GET": R, "PUT": R, "DELETE": R},
    "api-fulltext-pdf": {"GET": R},
    "api-prisma": {"GET": E},
    "api-prisma-svg": {"GET": E},
    "api-prisma-png": {"GET": E},
    # API: studies, extraction, forms
    "api-study-list": {"GET": R, "POST": E},
    "api-studies-from-included": {"POST": E},
    "api-study-detail": {"GET": R, "PATCH": E, "DELETE": E},
    "api-report-list": {"GET": R, "POST": E},
    "api-report-detail": {"PATCH": E, "DELETE": E},
    "api-arm-list": {"GET": R, "POST": E},
    "api-arm-detail": {"GET": R, "PATCH": E, "DELETE": E},
    "api-extraction-list": {"GET": R, "POST": R},
    "api-extraction-detail": {"GET": R, "PATCH": SELF},
    "api-extraction-history": {"GET": R},
    "api-extraction-upgrade": {"POST": SELF},
    "api-outcome-data": {"GET": R, "PUT": R},
    "api-outcome-list": {"GET": R, "POST": E},
    "api-outcome-detail": {"GET": R, "PATCH": E, "DELETE": E},
    "api-comparison-list": {"GET": R, "POST": E},
    "api-comparison-detail": {"GET": R, "PATCH": E, "DELETE": E},
    "api-form-list": {"GET": R, "POST": E},
    "api-form-detail": {"GET": R, "DELETE": E},
    "api-form-new-version": {"POST": E},
    "api-form-publish": {"POST": E},
    "api-form-reorder": {"POST": E},
    "api-form-move": {"POST": E},
    "api-form-section-list": {"POST": E},
    "api-form-section-detail": {"PATCH": E, "DELETE": E},
    "api-form-field-list": {"POST": E},
    "api-form-field-detail": {"PATCH": E, "DELETE": E},
    "api-discrepancy-list": {"GET": E},
    "api-discrepancy-resolve": {"POST": E},
    "api-extraction-settings": {"GET": R, "PATCH": O},
    "api-extraction-export": {"GET": E},
    # API: outcome summaries
    "api-analysis-list": {"GET": E},
    "api-analysis-detail": {"GET": E, "PATCH": E},
    "api-analysis-forest-svg": {"GET": E},
    "api-analysis-forest-png": {"GET": E},
    "api-analysis-funnel-svg": {"GET": E_NODATA},
    "api-analysis-funnel-png": {"GET": E_NODATA},
    # API: risk of bias
    "api-rob-assessment-list": {"GET": R, "POST": R},
    "api-rob-traffic-light-svg": {"GET": E},
    "api-rob-traffic-light-png": {"GET": E},
    "api-rob-summary-svg": {"GET": E},
    "api-rob-summary-png": {"GET": E},
    "api-rob-assessment-detail": {"GET": R, "PATCH": SELF},
    "api-rob-judgement": {"PUT": SELF, "PATCH": SELF},
    "api-rob-assessment-history": {"GET": R},
    "api-rob-consensus": {"POST": E},
    "api-rob-settings": {"GET": R, "PATCH": O},
    "api-rob-discrepancy-list": {"GET": E},
    "api-rob-discrepancy-resolve": {"POST": E},
    # API: certainty
    "api-certainty-list": {"GET": E},
    "api-certainty-detail": {"GET": E, "PUT": E},
    "api-certainty-sign-off": {"POST": E},
    "api-certainty-history": {"GET": E},
    "api-certainty-rob-plot-svg": {"GET": E},
    "api-certainty-rob-plot-png": {"GET": E},
    "api-summary-of-findings": {"GET": E},
    # API: exports and review files
    "api-export-ris": {"GET": R},
    "api-export-csv": {"GET": R},
    "api-export-json": {"GET": R},
    "api-export-rm5": {"GET": E},
    "api-review-import": {"POST": LOGIN},
    "api-review-import-detail": {"GET": UPLOADER},
    # API documentation (README: "all need a login")
    "api-schema": {"GET": LOGIN},
    "api-docs": {"GET": LOGIN},
    "api-redoc": {"GET": LOGIN},
}

RANK = {"anonymous": -1, "outsider": 0, R: 1, E: 2, O: 3}


def allowed(rule: str, role: str) -> bool:
    if rule == PUBLIC:
        return True
    if rule == LOGIN:
        return role != "anonymous"
    if rule == SELF:
        return role == R  # carol, whose decision, extraction or assessment the URL names
    if rule == UPLOADER:
        return role == O  # alice uploaded the transfer
    return RANK[role] >= RANK[E if rule == E_NODATA else rule]


def matrix_patterns() -> list[Pattern]:
    """The patterns with a row in EXPECT (test_every_pattern_has_an_expectation fails for any other)."""
    return [p for p in patterns() if p.name in EXPECT]


def methods(pattern: Pattern) -> tuple[str, ...]:
    return API_METHODS if pattern.api else PAGE_METHODS


def test_every_pattern_has_an_expectation():
    names = {p.name for p in patterns()}
    missing = sorted(names - set(EXPECT) - set(EXCLUDED))
    assert not missing, f"URL patterns with no row in EXPECT (say who may use them): {missing}"
    stale = sorted(set(EXPECT) - names)
    assert not stale, f"EXPECT rows for patterns that no longer exist: {stale}"
    for name, rules in EXPECT.items():
        pattern = next(p for p in patterns() if p.name == name)
        assert set(rules) <= set(methods(pattern)), (name, rules)


def leaks(body: bytes, world: Any) -> list[str]:
    text = body.decode("utf-8", "replace")
    secrets = [world.mine.review.title, world.mine["record"].title, world.mine["study"].label + " ", "blinded"]
    return [s for s in secrets if s in text]


def classify(response: Any, pattern: Pattern) -> str:
    """'login' (sent to log in), 'refused' (401/403), 'missing' (404), 'method' (405), 'error' (5xx), 'ok'."""
    status = response.status_code
    if status in (301, 302) and "/accounts/login/" in response.get("Location", ""):
        return "login"
    if status in (401, 403):
        return "refused"
    return {404: "missing", 405: "method"}.get(status, "error" if status >= 500 else "ok")


def expected(rule: str | None, role: str, pattern: Pattern) -> set[str]:
    if rule is None:  # a method the pattern does not serve
        return {"login", "method"} if role == "anonymous" and not pattern.api else {"refused", "method", "missing"}
    if allowed(rule, role):
        return {"ok", "missing"} if rule == E_NODATA else {"ok"}
    if role == "anonymous":
        return {"refused"} if pattern.api else {"login"}
    if role == "outsider" or rule == UPLOADER:
        return {"missing"}  # README: a review you cannot see does not exist
    return {"refused", "missing"}


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role):
    """Every pattern x method for one role; all mismatches are listed at once."""
    client_pair = clients(world)[role]
    before = fingerprint()
    problems: list[str] = []
    checked = 0
    for pattern in matrix_patterns():
        url = url_for(pattern, world.mine)
        client = client_pair[1 if pattern.api else 0]
        for method in methods(pattern):
            rule = EXPECT[pattern.name].get(method)
            refused_write = method != "GET" and not (rule and allowed(rule, role))

            def check(response: Any, refused_write: bool = refused_write) -> Any:
                return fingerprint() if refused_write else None

            response, after = request_rolled_back(client, pattern, method, url, world.mine, check)
            checked += 1
            got = classify(response, pattern)
            want = expected(rule, role, pattern)
            where = f"{role} {method} {url} ({pattern.name}, rule {rule})"
            if got not in want:
                problems.append(f"{where}: {response.status_code} is {got}, expected {sorted(want)}")
            if refused_write and after != before:
                changed = [a[0] for a, b in zip(after, before, strict=True) if a != b]
                problems.append(f"{where}: refused but changed {changed}")
            if role in ("anonymous", "outsider") and got != "ok" and (found := leaks(response.content, world)):
                problems.append(f"{where}: the refusal names {found}")
    assert checked > 300
    assert not problems, "\n".join(problems)
