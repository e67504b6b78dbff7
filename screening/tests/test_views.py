"""Screening pages: roles, one record at a time with htmx, undo, highlighting, conflicts, settings, PRISMA."""

import pytest

from screening import services
from screening.models import Decision, Outcome
from screening.templatetags.screening_tags import highlight
from screening.tests.test_screening import decide, make_records

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    "path,who,expected",
    [
        ("screening/title_abstract/", "carol", 200),
        ("screening/full_text/", "carol", 200),
        ("screening/title_abstract/mine/", "carol", 200),
        ("screening/nowhere/", "carol", 404),
        ("screening/title_abstract/", "dave", 404),
        ("conflicts/", "carol", 403),
        ("conflicts/", "bob", 200),
        ("prisma/", "carol", 403),
        ("prisma/", "bob", 200),
        ("screening/settings/", "bob", 403),
        ("screening/settings/", "alice", 200),
    ],
)
def test_page_roles(cast, web, path, who, expected):
    assert web(who).get(f"/reviews/{cast.review.pk}/{path}").status_code == expected


def test_anonymous_is_sent_to_login(cast, web):
    response = web("anonymous").get(f"/reviews/{cast.review.pk}/screening/title_abstract/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_screening_one_record_at_a_time_with_htmx_and_undo(cast, web):
    first, second = make_records(cast.review, 2)
    client = web("carol")
    page = client.get(f"/reviews/{cast.review.pk}/screening/title_abstract/").content.decode()
    assert first.title in page and second.title not in page
    assert 'data-key="i"' in page and 'data-key="e"' in page and 'data-key="m"' in page and 'data-key="u"' in page
    url = f"/reviews/{cast.review.pk}/screening/title_abstract/"
    pane = client.post(f"{url}decide/", {"record": first.pk, "decision": "exclude"}, **HTMX).content.decode()
    assert second.title in pane and "<html" not in pane and 'hx-swap-oob="true"' in pane
    assert Decision.objects.get(record=first, reviewer=cast.carol).decision == "exclude"
    pane = client.post(f"{url}undo/", **HTMX).content.decode()
    assert first.title in pane and not Decision.objects.filter(record=first).exists()
    # Without JavaScript: post and redirect back.
    response = client.post(f"{url}decide/", {"record": first.pk, "decision": "include"})
    assert response.status_code == 302
    again = client.post(f"{url}decide/", {"record": first.pk, "decision": "include"}, **HTMX).content.decode()
    assert "already decided" in again


def test_full_text_exclusion_without_reason_says_so(cast, web, erin):
    (record,) = make_records(cast.review, 1)
    for user in (cast.carol, erin):
        decide(user, cast.review, record, "include")
    url = f"/reviews/{cast.review.pk}/screening/full_text/decide/"
    pane = web("carol").post(url, {"record": record.pk, "decision": "exclude"}, **HTMX).content.decode()
    assert "reason" in pane.lower() and record.title in pane
    assert not Decision.objects.filter(stage="full_text").exists()


def test_highlight_escapes_and_marks_terms():
    html = highlight("<b>Ketamine</b> randomised vs placebo & morphine", ["ketamine", "random*"], ["placebo"])
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<mark class="hl-include">Ketamine</mark>' in html
    assert '<mark class="hl-include">randomised</mark>' in html
    assert '<mark class="hl-exclude">placebo</mark>' in html and "&amp; morphine" in html
    assert highlight("<x>", [], []) == "&lt;x&gt;"


def test_keywords_are_escaped_once_on_the_screening_page(cast, web):
    (record,) = make_records(cast.review, 1)
    record.keywords = ["Ketamine/ad [Administration & Dosage]", "<i>Humans</i>"]
    record.save()
    page = web("carol").get(f"/reviews/{cast.review.pk}/screening/title_abstract/").content.decode()
    assert "Ketamine/ad [Administration &amp; Dosage]; &lt;i&gt;Humans&lt;/i&gt;" in page
    assert "&amp;amp;" not in page and "<i>Humans" not in page


def test_conflicts_page_shows_both_and_the_editor_resolves(cast, web, erin):
    (record,) = make_records(cast.review, 1)
    decide(cast.carol, cast.review, record, "include")
    decide(erin, cast.review, record, "exclude")
    outcome = Outcome.objects.get(record=record)
    page = web("bob").get(f"/reviews/{cast.review.pk}/conflicts/").content.decode()
    assert record.title in page and "carol" in page and "erin" in page
    assert "<summary>Abstract</summary>" in page and record.abstract in page  # the editor can judge it here
    assert f"/reviews/{cast.review.pk}/records/{record.pk}/" in page
    response = web("bob").post(f"/reviews/{cast.review.pk}/conflicts/{outcome.pk}/resolve/", {"decision": "include"})
    assert response.status_code == 302
    outcome.refresh_from_db()
    assert outcome.status == "resolved" and outcome.resolved_by == cast.bob
    assert (
        web("carol")
        .post(f"/reviews/{cast.review.pk}/conflicts/{outcome.pk}/resolve/", {"decision": "exclude"})
        .status_code
        == 403
    )


def test_settings_page_saves_and_refuses_a_stale_form(cast, web):
    url = f"/reviews/{cast.review.pk}/screening/settings/"
    form = {
        "reviewers_needed": "1", "blinded": "on", "include_terms": "ketamine", "exclude_terms": "",
        "exclusion_reasons": "Wrong population\nToo few participants", "version": "1",
    }  # fmt: skip
    assert web("alice").post(url, form).status_code == 302
    current = services.settings_for(cast.review)
    assert current.reviewers_needed == 1 and current.exclusion_reasons == ["Wrong population", "Too few participants"]
    stale = web("alice").post(url, {**form, "reviewers_needed": "2"})
    assert stale.status_code == 200 and "Someone else saved" in stale.content.decode()


def test_prisma_page_draws_the_diagram(cast, web):
    make_records(cast.review, 3)
    page = web("bob").get(f"/reviews/{cast.review.pk}/prisma/").content.decode()
    assert "<svg" in page and "MEDLINE (Ovid)" in page and "Cohen" in page
    download = web("bob").get(f"/reviews/{cast.review.pk}/prisma/?download=svg")
    assert download["Content-Disposition"].startswith("attachment") and download.content.startswith(b"<")


def test_blinded_pages_show_a_reviewer_nothing_of_the_other(cast, web, erin):
    records = make_records(cast.review, 2)
    decide(cast.carol, cast.review, records[0], "include")
    pages = ["screening/title_abstract/", "screening/title_abstract/mine/", f"records/{records[0].pk}/", ""]
    before = [web("carol").get(f"/reviews/{cast.review.pk}/{p}").content for p in pages]
    decide(erin, cast.review, records[0], "exclude")
    after = [web("carol").get(f"/reviews/{cast.review.pk}/{p}").content for p in pages]
    for page, b, a in zip(pages, before, after, strict=True):
        if _without_token(b) != _without_token(a):
            import difflib

            diff = difflib.unified_diff(b.decode().splitlines(), a.decode().splitlines(), lineterm="", n=0)
            raise AssertionError(f"{page} changed: " + "\n".join(list(diff)[:12]))
    assert all(b"erin" not in page for page in after[:3])  # the overview lists the team, not decisions
    # The editor sees the team's progress.
    assert b"Review: 2 of 4 decisions" in web("bob").get(f"/reviews/{cast.review.pk}/{pages[0]}").content


def _without_token(content: bytes) -> bytes:
    import re

    return re.sub(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+', rb"\1", content)
