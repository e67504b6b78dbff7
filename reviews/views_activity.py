"""The Activity page: the review's audit trail (reviews.audit), for its owners only. The trail holds every
reviewer's decisions and values, so a reviewer of a blinded stage must never reach it: the owner role is checked
by `review_get_for_user` before anything is read."""

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from reviews import audit, selectors
from reviews.models import AuditEvent, Membership

PAGE_SIZE = 50


class ActivityFilterForm(forms.Form):
    who = forms.ChoiceField(required=False, label="Who")
    what = forms.ChoiceField(required=False, label="What", choices=[("", "Everything"), *AuditEvent.Subject.choices])

    def __init__(self, *args: object, actors: list[str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["who"].choices = [("", "Everyone"), *((name, name) for name in actors)]  # type: ignore[attr-defined]
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-select form-select-sm"


@require_GET
def activity(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Membership.Role.OWNER)
    form = ActivityFilterForm(request.GET or None, actors=audit.actor_names(review=review))
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit.event_list(review=review, who=filters.get("who") or "", subject=filters.get("what") or "")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"review": review, "form": form, "page": page, "query": query.urlencode(), "system": audit.SYSTEM}
    return render(request, "reviews/activity.html", context)
