"""Risk-of-bias pages (placeholder until the pages land)."""

from django.http import HttpRequest, HttpResponse

from reviews.selectors import review_get_for_user


def overview(request: HttpRequest, review_id: int) -> HttpResponse:
    review_get_for_user(user=request.user, review_id=review_id)
    return HttpResponse("Risk of bias")
