"""Review pages: list, create, home, edit, delete, members. Thin: parse, call a service or selector, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from reviews import selectors, services
from reviews.forms import MemberAddForm, MemberRoleForm, ReviewForm, add_service_errors
from reviews.models import Membership, role_at_least
from reviews.next_steps import next_steps
from screening import selectors as screening_selectors

Role = Membership.Role


def review_list(request: HttpRequest) -> HttpResponse:
    reviews = selectors.review_list_for_user(user=request.user)
    return render(request, "reviews/list.html", {"reviews": reviews})


@require_http_methods(["GET", "POST"])
def review_create(request: HttpRequest) -> HttpResponse:
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        review = services.review_create(user=request.user, **data)
        messages.success(request, "Review created. Add your co-authors and editor under Members.")
        return redirect("reviews:detail", review_id=review.pk)
    return render(request, "reviews/form.html", {"form": form, "creating": True})


def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    members = selectors.membership_list(review=review)
    counts = selectors.record_counts_by_source(review=review)
    context = {
        "review": review,
        "members": members,
        "is_owner": role_at_least(review.my_role, Role.OWNER),
        "counts": counts,
        "records": sum(c["records"] for c in counts),
        "duplicates": sum(c["duplicate_count"] for c in counts),
        "pending_duplicates": review.duplicate_groups.filter(status="pending").count(),
        "screening": screening_selectors.dashboard(review=review),
        "next_steps": next_steps(review=review, user=request.user),
    }
    return render(request, "reviews/detail.html", context)


@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    form = ReviewForm(request.POST or None, instance=review, initial={"version": review.version})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.review_update(user=request.user, review_id=review.pk, version=form.cleaned_data["version"], **data)
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Review saved.")
            return redirect("reviews:detail", review_id=review.pk)
    return render(request, "reviews/form.html", {"form": form, "review": review, "creating": False})


@require_http_methods(["GET", "POST"])
def review_delete(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    if request.method == "POST":
        if request.POST.get("confirm_title", "").strip() != review.title.strip():
            messages.error(request, "Type the review's exact title to confirm deletion.")
        else:
            services.review_delete(user=request.user, review_id=review.pk)
            messages.success(request, f"Deleted “{review.title}”.")
            return redirect("reviews:list")
    return render(request, "reviews/delete.html", {"review": review})


def _members_page(request: HttpRequest, review_id: int, add_form: MemberAddForm | None = None) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id)
    context = {
        "review": review,
        "members": selectors.membership_list(review=review),
        "is_owner": role_at_least(review.my_role, Role.OWNER),
        "add_form": add_form or MemberAddForm(),
        "roles": Role.choices,
    }
    template = "reviews/_members.html" if request.htmx else "reviews/members.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def members(request: HttpRequest, review_id: int) -> HttpResponse:
    return _members_page(request, review_id)


def _after_member_change(request: HttpRequest, review_id: int) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        return _members_page(request, review_id)
    return redirect("reviews:members", review_id=review_id)


@require_POST
def member_add(request: HttpRequest, review_id: int) -> HttpResponse:
    selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        try:
            membership = services.membership_add(
                user=request.user,
                review_id=review_id,
                identifier=form.cleaned_data["identifier"],
                role=form.cleaned_data["role"],
            )
        except ServiceConflict as exc:
            form.add_error("identifier", exc.message)
        except ValidationError as exc:
            form.add_error("identifier", exc.messages)
        else:
            messages.success(request, f"Added {membership.user.get_username()} as {membership.get_role_display()}.")
            return _after_member_change(request, review_id)
    return _members_page(request, review_id, add_form=form)


@require_POST
def member_role(request: HttpRequest, review_id: int, membership_id: int) -> HttpResponse:
    selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: owner, editor or reviewer.")
    else:
        try:
            membership = services.membership_change_role(
                user=request.user,
                review_id=review_id,
                membership_id=membership_id,
                role=form.cleaned_data["role"],
            )
        except ServiceConflict as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {membership.get_role_display().lower()}."
            )
    return _after_member_change(request, review_id)


@require_POST
def member_remove(request: HttpRequest, review_id: int, membership_id: int) -> HttpResponse:
    review = selectors.review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    membership = selectors.membership_get(review=review, membership_id=membership_id)
    try:
        services.membership_remove(user=request.user, review_id=review_id, membership_id=membership.pk)
    except ServiceConflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed {membership.user.get_username()} from the review.")
        if membership.user_id == request.user.pk:
            return redirect("reviews:list")
    return _after_member_change(request, review_id)
