"""The OpenAPI schema is valid and the interactive docs load only from this server (closed networks)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_schema_lists_the_endpoints(cast, web):
    response = web("carol").get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/reviews/",
        "/api/v1/reviews/{id}/",
        "/api/v1/reviews/{review_pk}/members/",
        "/api/v1/reviews/{review_pk}/members/{id}/",
    ):
        assert path in schema["paths"], path
    assert "put" not in schema["paths"]["/api/v1/reviews/{id}/"]
    assert {"401", "403", "404", "409"} <= set(schema["paths"]["/api/v1/reviews/{id}/"]["patch"]["responses"])


def test_docs_render_from_local_assets_only(cast, web):
    client = web("carol")
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets, html[:500]
    for url in assets:
        assert not re.match(r"^(https?:)?//", url), f"docs load {url} from the network"
        assert client.get(url).status_code == 200, url
    assert "swagger-ui" in html


def test_docs_need_login():
    assert Client().get("/api/docs/").status_code in (401, 403)
