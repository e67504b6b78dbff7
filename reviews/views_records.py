"""Pages for imports, records and duplicates. Thin: parse, call a service or selector, render."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from reviews import selectors
from reviews.forms import ImportForm, RecordFilterForm, add_service_errors
from reviews.models import DuplicateGroup, Membership, role_at_least
from reviews.services import duplicates as duplicate_services
from reviews.services import imports as import_services

Role = Membership.Role


@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest, review_id: int) -> HttpResponse:
    needed = Role.EDITOR if request.method == "POST" else Role.REVIEWER
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=needed)
    can_import = role_at_least(review.my_role, Role.EDITOR)
    form = ImportForm()
    needs_confirmation = False
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = import_services.import_start(user=request.user, review_id=review.pk, **form.cleaned_data)
            except ServiceConflict as exc:
                form.add_error("file", exc.message)
                needs_confirmation = True
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, f"{batch.filename} is being imported.")
                return redirect("reviews:import_detail", review_id=review.pk, import_id=batch.pk)
    context = {
        "review": review,
        "imports": selectors.import_list(review=review),
        "form": form,
        "can_import": can_import,
        "needs_confirmation": needs_confirmation,
        "max_mb": settings.SIEVE_MAX_IMPORT_MB,
    }
    return render(request, "reviews/imports.html", context)


def import_detail(request: HttpRequest, review_id: int, import_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    batch = selectors.import_get(review=review, import_id=import_id)
    context = {"review": review, "batch": batch}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "reviews/_import_status.html", context)
    return render(request, "reviews/import_detail.html", context)


def records(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    counts = selectors.record_counts_by_source(review=review)
    form = RecordFilterForm(request.GET or None, sources=[c["batch__source"] for c in counts])
    filters = form.cleaned_data if form.is_valid() else {}
    queryset = selectors.record_list(
        review=review,
        source=filters.get("source") or "",
        duplicates=filters.get("duplicates") or "",
        q=filters.get("q") or "",
        year=filters.get("year"),
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "review": review,
        "form": form,
        "page": page,
        "counts": counts,
        "total": sum(c["records"] for c in counts),
        "total_duplicates": sum(c["duplicate_count"] for c in counts),
        "query": query.urlencode(),
    }
    return render(request, "reviews/records.html", context)


def record_detail(request: HttpRequest, review_id: int, record_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    record = selectors.record_get(review=review, record_id=record_id)
    return render(request, "reviews/record_detail.html", {"review": review, "record": record})


COMPARED_FIELDS = ["title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "registry_id"]


def duplicates(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    status = request.GET.get("status", DuplicateGroup.Status.PENDING)
    if status not in DuplicateGroup.Status.values:
        status = DuplicateGroup.Status.PENDING
    page = Paginator(selectors.duplicate_group_list(review=review, status=status), 20).get_page(request.GET.get("page"))
    groups = [{"group": group, "rows": _comparison(group)} for group in page]
    counts = dict.fromkeys(DuplicateGroup.Status.values, 0)
    counts.update(review.duplicate_groups.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    context = {
        "review": review,
        "groups": groups,
        "page": page,
        "status": status,
        "statuses": DuplicateGroup.Status.choices,
        "counts": counts,
        "can_decide": role_at_least(review.my_role, Role.EDITOR),
    }
    template = "reviews/_duplicate_queue.html" if request.htmx else "reviews/duplicates.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _comparison(group: DuplicateGroup) -> list[dict]:
    """Field by field, the members' values side by side, and whether they differ (to highlight)."""
    members = list(group.records.all())
    rows = []
    for field in COMPARED_FIELDS:
        values = [getattr(record, field) for record in members]
        shown = ["; ".join(v) if isinstance(v, list) else ("" if v is None else str(v)) for v in values]
        rows.append({"field": field.replace("_", " "), "values": shown, "differ": len({s.lower() for s in shown}) > 1})
    rows.append({"field": "source", "values": [r.batch.source for r in members], "differ": False})
    return rows


def _back_to_queue(request: HttpRequest, review_id: int) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return duplicates(request, review_id)
    status = request.POST.get("status", "")
    url = reverse("reviews:duplicates", args=[review_id])
    return redirect(f"{url}?status={status}" if status in DuplicateGroup.Status.values else url)


@require_POST
def duplicate_merge(request: HttpRequest, review_id: int, group_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    group = selectors.duplicate_group_get(review=review, group_id=group_id)
    record_ids = [r.pk for r in group.records.all()]
    duplicate_services.duplicates_merge(user=request.user, review_id=review.pk, record_ids=record_ids)
    messages.success(request, f"Merged {len(record_ids)} records into one.")
    return _back_to_queue(request, review.pk)


@require_POST
def duplicate_split(request: HttpRequest, review_id: int, group_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    duplicate_services.duplicate_group_split(user=request.user, review_id=review.pk, group_id=group_id)
    messages.success(request, "Kept apart: these records count as different publications.")
    return _back_to_queue(request, review.pk)
