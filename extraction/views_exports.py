"""Extraction CSV downloads of the pages (the files are described in extraction/exports.py)."""

from django.http import Http404, HttpRequest, StreamingHttpResponse

from extraction import exports
from reviews.selectors import review_get_for_user


def export(request: HttpRequest, review_id: int, kind: str) -> StreamingHttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    if kind not in exports.KINDS:
        raise Http404("No such extraction export.")
    return exports.csv_response(review=review, user=request.user, kind=kind)
