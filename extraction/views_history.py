"""The history of an extraction's values: who changed what, when, from and to (as blinding allows)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from extraction import selectors
from reviews.selectors import review_get_for_user


def history(request: HttpRequest, review_id: int, extraction_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    extraction = selectors.extraction_get(review=review, user=request.user, extraction_id=extraction_id)
    return render(
        request,
        "extraction/history.html",
        {
            "review": review,
            "extraction": extraction,
            "changes": selectors.value_history(extraction=extraction),
        },
    )
