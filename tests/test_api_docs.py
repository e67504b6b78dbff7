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
        "/api/v1/reviews/{review_pk}/imports/",
        "/api/v1/reviews/{review_pk}/imports/{id}/",
        "/api/v1/reviews/{review_pk}/records/",
        "/api/v1/reviews/{review_pk}/records/{id}/",
        "/api/v1/reviews/{review_pk}/duplicates/",
        "/api/v1/reviews/{review_pk}/duplicates/merge/",
        "/api/v1/reviews/{review_pk}/duplicates/{id}/split/",
    ):
        assert path in schema["paths"], path
    assert "put" not in schema["paths"]["/api/v1/reviews/{id}/"]
    assert {"401", "403", "404", "409"} <= set(schema["paths"]["/api/v1/reviews/{id}/"]["patch"]["responses"])
    upload = schema["paths"]["/api/v1/reviews/{review_pk}/imports/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"] and "202" in upload["responses"]
    record_filters = {p["name"] for p in schema["paths"]["/api/v1/reviews/{review_pk}/records/"]["get"]["parameters"]}
    assert {"source", "duplicates", "q", "page"} <= record_filters


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
