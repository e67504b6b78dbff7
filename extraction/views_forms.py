"""Form builder pages (placeholder until built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reviews.selectors import review_get_for_user


def forms(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return render(request, "extraction/forms.html", {"review": review})
