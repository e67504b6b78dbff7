"""The Export page, the PRISMA PNG and the import page: who sees which download."""

import io

import numpy
import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from PIL import Image

from extraction.models import ExtractionSettings
from grading.models import RobSettings
from screening.models import ScreeningSettings
from screening.prisma import PrismaCounts, render_svg
from screening.prisma_png import render_png

# The import runs as a task: eagerly on the embedded default, through a real worker where REDIS_URL is set.
REAL_WORKER = not django_settings.CELERY_TASK_ALWAYS_EAGER

COUNTS = PrismaCounts(
    databases={"MEDLINE (Ovid)": 120, "CENTRAL (CRSO)": 80, "Embase (Ovid)": 150},
    registers={"ClinicalTrials.gov": 12, "WHO ICTRP": 9},
    duplicates_removed=90,
    screened=281,
    excluded_screening=250,
    sought=31,
    not_retrieved=1,
    assessed=30,
    excluded_reasons={"Wrong population": 10, "Fewer than 10 participants completed": 17},
    studies_included=3,
    reports_included=3,
)


def _image(data: bytes) -> Image.Image:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data))


def test_prisma_png_is_the_svg_drawing_at_the_asked_resolution():
    svg = render_svg(COUNTS, title="Ketamine for cancer pain")
    width = float(svg.split('width="', 1)[1].split('"', 1)[0])
    height = float(svg.split('height="', 1)[1].split('"', 1)[0])
    for dpi in (72, 144):
        image = _image(render_png(svg, dpi=dpi)).convert("L")
        assert image.size == (round(width * dpi / 72), round(height * dpi / 72))
        # Drawn, not blank: dark pixels (text, lines) and the light-blue phase bars are there.
        histogram = image.histogram()
        assert sum(histogram[:80]) > 0.01 * image.size[0] * image.size[1]
    rgb = _image(render_png(svg, dpi=72)).convert("RGB")
    pixels = numpy.asarray(rgb).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    blue = int(((b > 200) & (r < 190) & (g < 215)).sum())
    assert blue > 1000  # the three phase bars (PHASE_FILL)


def test_prisma_png_grows_with_more_sources():
    small = _image(render_png(render_svg(COUNTS))).size
    more = PrismaCounts(**{**COUNTS.__dict__, "databases": {f"Database {i}": i for i in range(1, 12)}})
    assert _image(render_png(render_svg(more))).size[1] > small[1]


@pytest.mark.parametrize(("who", "status"), [("alice", 200), ("bob", 200), ("carol", 403), ("dave", 404)])
def test_prisma_png_endpoint_roles(api, cast, who, status):
    response = api(who).get(reverse("api-prisma-png", args=[cast.review.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/png"
        assert f'filename="prisma-review-{cast.review.pk}.png"' in response["Content-Disposition"]
        _image(b"".join(response))


def test_prisma_png_endpoint_needs_login(api, cast):
    assert api("anonymous").get(reverse("api-prisma-png", args=[cast.review.pk])).status_code == 401


def test_prisma_page_download_png(web, cast):
    response = web("bob").get(reverse("screening:prisma", args=[cast.review.pk]) + "?download=png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    _image(response.content)
    assert web("carol").get(reverse("screening:prisma", args=[cast.review.pk]) + "?download=png").status_code == 403


def _page(web, cast, who):
    return web(who).get(reverse("exports:page", args=[cast.review.pk]))


def test_export_page_owner_sees_every_download(web, cast):
    response = _page(web, cast, "alice")
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("api-export-ris", "api-export-csv", "api-export-json", "api-export-rm5"):
        assert reverse(name, args=[cast.review.pk]) in html
    assert "?download=png" in html and "?format=docx" in html
    assert "your own decisions only" not in html


def test_export_page_blinded_reviewer_is_told_and_offered_less(web, cast):
    ScreeningSettings.objects.update_or_create(review=cast.review, defaults={"blinded": True})
    html = _page(web, cast, "carol").content.decode()
    assert "your file carries your own decisions only" in html
    assert 'value="conflict"' not in html  # not theirs to know; the export would refuse it
    assert reverse("api-export-json", args=[cast.review.pk]) in html
    assert reverse("api-export-rm5", args=[cast.review.pk]) not in html
    assert "?download=png" not in html  # PRISMA: editors and owners
    assert "?format=docx" not in html  # certainty: not while blinded


def test_export_page_reviewer_once_nothing_is_blinded(web, cast):
    ScreeningSettings.objects.update_or_create(review=cast.review, defaults={"blinded": False})
    ExtractionSettings.objects.update_or_create(review=cast.review, defaults={"blinded": False})
    RobSettings.objects.update_or_create(review=cast.review, defaults={"blinded": False})
    html = _page(web, cast, "carol").content.decode()
    assert "your own decisions only" not in html
    assert 'value="conflict"' in html
    assert reverse("api-export-rm5", args=[cast.review.pk]) in html
    assert "?format=docx" in html


def test_export_page_outsider_and_anonymous(web, cast):
    assert _page(web, cast, "dave").status_code == 404
    response = _page(web, cast, "anonymous")
    assert response.status_code == 302 and "login" in response["Location"]


def test_nav_links_the_export_page(web, cast):
    html = web("carol").get(reverse("reviews:detail", args=[cast.review.pk])).content.decode()
    assert reverse("exports:page", args=[cast.review.pk]) in html


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_page_makes_a_review_the_importer_owns(web, api, cast, tasks, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exports.models import ReviewTransfer
    from reviews.models import Membership, Review

    settings.MEDIA_ROOT = tmp_path
    document = b"".join(api("alice").get(reverse("api-export-json", args=[cast.review.pk])))
    before = Review.objects.count()
    page = web("dave").get(reverse("exports:import"))
    assert page.status_code == 200 and b'type="file"' in page.content
    upload = SimpleUploadedFile("review.json", document, content_type="application/json")
    dave = web("dave")
    with tasks.run():
        response = dave.post(reverse("exports:import"), {"file": upload})
    transfer = ReviewTransfer.objects.get(user=cast.dave)
    assert response.status_code == 302
    assert response["Location"] == reverse("exports:import_status", args=[transfer.pk])
    status = wait_page(dave, response["Location"])
    new = Review.objects.latest("pk")
    assert Review.objects.count() == before + 1
    assert "you own this copy" in status and reverse("reviews:detail", args=[new.pk]) in status
    assert 'aria-valuenow="100"' in status and "hx-get" not in status  # finished: the bar no longer polls
    # The poll that sees it done takes dave to the new review, with the message.
    polled = dave.get(response["Location"], HTTP_HX_REQUEST="true")
    assert polled["HX-Redirect"] == reverse("reviews:detail", args=[new.pk])
    assert "you own this copy" in dave.get(polled["HX-Redirect"]).content.decode()
    assert new.title == cast.review.title
    assert Membership.objects.get(review=new, user=cast.dave).role == Membership.Role.OWNER


def wait_page(client, url: str, timeout: float = 90) -> str:
    """The status page once the import has finished (at once where tasks run eagerly)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        html = client.get(url).content.decode()
        if "hx-get" not in html or time.monotonic() > deadline:
            return html
        time.sleep(0.1)


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_page_shows_a_failure_with_its_place_and_adds_nothing(web, tasks, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reviews.models import Record, Review

    settings.MEDIA_ROOT = tmp_path
    before = (Review.objects.count(), Record.objects.count())
    upload = SimpleUploadedFile("review.json", b'{"schema": "sieve-review/99"}', content_type="application/json")
    dave = web("dave")
    with tasks.run():
        response = dave.post(reverse("exports:import"), {"file": upload})
    assert response.status_code == 302
    html = wait_page(dave, response["Location"])
    assert "Nothing was imported" in html and "Unsupported schema version" in html
    assert "<code>schema</code>" in html and "bg-danger" in html
    polled = dave.get(response["Location"], HTTP_HX_REQUEST="true")
    assert (
        polled.status_code == 200 and "HX-Redirect" not in polled and "Nothing was imported" in polled.content.decode()
    )
    assert (Review.objects.count(), Record.objects.count()) == before


def test_import_page_refuses_plainly_not_json_at_once(web, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from exports.models import ReviewTransfer

    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("review.json", b"<html>Sign in</html>", content_type="application/json")
    response = web("dave").post(reverse("exports:import"), {"file": upload})
    assert response.status_code == 200
    assert "Nothing was imported: Not valid JSON" in response.content.decode()
    assert not ReviewTransfer.objects.exists() and not list(tmp_path.iterdir())


@pytest.mark.django_db(transaction=REAL_WORKER)
def test_import_status_page_is_only_for_its_user(web, api, cast, tasks, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    document = b"".join(api("alice").get(reverse("api-export-json", args=[cast.review.pk])))
    with tasks.run():
        response = web("dave").post(reverse("exports:import"), {"file": SimpleUploadedFile("r.json", document)})
    url = response["Location"]
    assert web("dave").get(url).status_code == 200
    for who in ("alice", "carol"):
        assert web(who).get(url).status_code == 404, who
        assert web(who).get(url, HTTP_HX_REQUEST="true").status_code == 404, who
    anonymous = web("anonymous").get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_import_page_needs_login(web):
    response = web("anonymous").get(reverse("exports:import"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_review_list_links_the_import_page(web):
    assert reverse("exports:import") in web("dave").get(reverse("reviews:list")).content.decode()
