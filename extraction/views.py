"""Extraction pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from extraction import selectors
from reviews.selectors import review_get_for_user


def studies(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    return render(request, "extraction/studies.html", {"review": review, "studies": selectors.study_list(review=review)})
