"""Ids from elsewhere (IDOR): every URL that names an object besides its review is requested with the id of the
same kind of object from another review (dave's), by the owner of the review in the URL, and must answer 404
and change nothing; and under blinding (the default) a reviewer (erin) reaches nothing of another reviewer's
(carol's) decisions, extractions or assessments, by id or through any page, export or list she may read."""

import dataclasses
import json
import re
from typing import Any

import pytest
from django.urls import reverse

from tests.security.requests_ import clients, fingerprint, request_rolled_back
from tests.security.test_access_matrix import EXPECT, LOGIN, SELF, UPLOADER, R, matrix_patterns
from tests.security.urls_walk import kind_of, url_for

pytestmark = pytest.mark.django_db

CAROLS = ("extraction", "assessment", "decision")  # carol's own work, blinded from erin
BLINDED_TEXT = ("Carol-blinded-value", "Carol-blinded-support")  # what carol wrote (tests/security/world.py)


def object_kwargs(pattern: Any) -> list[tuple[str, str]]:
    """(path parameter, kind) of every object the URL names besides its review."""
    kinds = [(kwarg, kind_of(pattern, kwarg)) for kwarg in pattern.kwargs]
    return [(kwarg, kind) for kwarg, kind in kinds if kind not in (None, "review")]


NOWHERE = 10**9  # an id no object has


class _Nowhere:
    pk = NOWHERE


def _answer(response: Any) -> tuple[int, str]:
    """Status and body, without the per-request CSRF token."""
    text = response.content.decode("utf-8", "replace") if not response.streaming else ""
    return response.status_code, re.sub(r'(csrfmiddlewaretoken" value=|"csrfToken": )"[^"]*"', "", text)


def test_every_object_id_from_another_review_is_404_and_changes_nothing(world):
    """404; a few views judge the body before they look the object up (a form left empty, a missing action):
    their answer must then be the one they give for an id that exists nowhere, so that it tells nothing."""
    made = clients(world)
    before = fingerprint()
    problems, checked, judged_first = [], 0, []
    for pattern in matrix_patterns():
        for kwarg, kind in object_kwargs(pattern):
            url = url_for(pattern, world.mine, override={kwarg: world.other[kind]})
            nowhere = url_for(pattern, world.mine, override={kwarg: _Nowhere})
            for method, rule in EXPECT[pattern.name].items():
                # The member who could use the URL with the right id: carol for her own work, else alice.
                role = "reviewer" if rule == SELF else "owner"
                client = made[role][1 if pattern.api else 0]
                write = method != "GET"
                response, after = request_rolled_back(
                    client, pattern, method, url, world.mine, (lambda r, w=write: fingerprint() if w else None)
                )
                checked += 1
                where = f"{role} {method} {url} ({pattern.name}: {kwarg} of dave's review)"
                if response.status_code != 404:
                    reference, _ = request_rolled_back(client, pattern, method, nowhere, world.mine)
                    if _answer(response) != _answer(reference) or response.status_code < 400:
                        problems.append(f"{where}: {response.status_code}, expected 404")
                    else:
                        judged_first.append(f"{method} {pattern.name}")
                if write and after != before:
                    problems.append(f"{where}: changed {[a[0] for a, b in zip(after, before, strict=True) if a != b]}")
    assert checked > 100
    assert not problems, "\n".join(problems)
    assert set(judged_first) <= BODY_FIRST, sorted(set(judged_first) - BODY_FIRST)


# Writes that judge the body before they look the object up (none left: each looks it up first now). One
# added here answers the same for any id, so it is no oracle, but it should look the object up first.
BODY_FIRST: set[str] = set()


def test_a_blinded_reviewer_cannot_read_or_write_anothers_work_by_id(world):
    """erin, a reviewer of the same review, with the ids of carol's decision, extraction and assessment."""
    erin = clients_for(world, "erin")
    before = fingerprint()
    problems, checked = [], 0
    for pattern in matrix_patterns():
        if not any(kind in CAROLS for _, kind in object_kwargs(pattern)):
            continue
        url = url_for(pattern, world.mine)
        for method in EXPECT[pattern.name]:
            write = method != "GET"
            response, after = request_rolled_back(
                erin[1 if pattern.api else 0], pattern, method, url, world.mine,
                (lambda r, w=write: fingerprint() if w else None),
            )  # fmt: skip
            checked += 1
            where = f"erin {method} {url} ({pattern.name})"
            if response.status_code not in (403, 404):
                problems.append(f"{where}: {response.status_code}, expected 404 (or 403)")
            if any(text in response.content.decode("utf-8", "replace") for text in BLINDED_TEXT):
                problems.append(f"{where}: shows carol's work")
            if write and after != before:
                problems.append(f"{where}: changed {[a[0] for a, b in zip(after, before, strict=True) if a != b]}")
    assert checked > 15
    assert not problems, "\n".join(problems)


def test_a_blinded_reviewer_sees_nothing_of_anothers_work_anywhere(world):
    """erin GETs every page, endpoint and export a reviewer may read, with her own decision, extraction and
    assessment in the URLs: carol's words appear in none of them and the lists hold none of carol's ids."""
    erin = clients_for(world, "erin")
    mine = dataclasses.replace(world.mine, objects=dict(world.mine.objects))
    for kind in CAROLS:
        mine.objects[kind] = world.mine[f"{kind}2"]
    carol_ids = {kind: world.mine[kind].pk for kind in CAROLS}
    # The control: carol's words are there to be found, and her editor finds them.
    bob = clients_for(world, "bob")[0]
    for name, kind in (("extraction:extract", "extraction"), ("rob:assess", "assessment")):
        page = bob.get(reverse(name, args=[world.mine.review.pk, world.mine[kind].pk])).content.decode()
        assert any(text in page for text in BLINDED_TEXT), name
    problems, checked = [], 0
    for pattern in matrix_patterns():
        if EXPECT[pattern.name].get("GET") not in (R, LOGIN, SELF):
            continue
        url = url_for(pattern, mine)
        response, _ = request_rolled_back(erin[1 if pattern.api else 0], pattern, "GET", url, mine)
        checked += 1
        where = f"erin GET {url} ({pattern.name})"
        if response.status_code >= 400:
            problems.append(f"{where}: {response.status_code}, expected to read it")
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        if any(t in text for t in BLINDED_TEXT):
            problems.append(f"{where}: shows carol's work")
        if response.get("Content-Type", "").startswith("application/json") and pattern.name in LISTS:
            ids = {item["id"] for item in _items(json.loads(text))}
            kind = LISTS[pattern.name]
            if carol_ids[kind] in ids:
                problems.append(f"{where}: lists carol's {kind} {carol_ids[kind]}")
    assert checked > 40
    assert not problems, "\n".join(problems)


# API lists that hold reviewers' own work, by the kind they hold.
LISTS = {"api-extraction-list": "extraction", "api-rob-assessment-list": "assessment", "api-decision-list": "decision"}


def _items(data: Any) -> list[dict[str, Any]]:
    return data["results"] if isinstance(data, dict) and "results" in data else data


def clients_for(world: Any, username: str) -> Any:
    from django.test import Client
    from rest_framework.authtoken.models import Token

    page, api = Client(), Client()
    user = world.user(username)
    page.force_login(user)
    api.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    return page, api


__all__ = ["UPLOADER"]
