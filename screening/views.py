"""Screening pages. Thin: parse, call a service or selector, render. The screening page swaps only the record
pane (htmx) after each decision, so the buttons never move; without JavaScript the forms post and redirect."""

from typing import cast

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import ServiceConflict
from reviews.forms import add_service_errors
from reviews.models import Membership, Record, Review
from reviews.selectors import review_get_for_user
from screening import selectors, services
from screening.models import Choice, FullText, ScreeningSettings, Stage
from screening.prisma import check, render_svg
from screening.prisma_png import render_png

Role = Membership.Role


def _stage(stage: str) -> str:
    if stage not in Stage.values:
        raise Http404("No such screening stage.")
    return stage


def _plain(request: HttpRequest, review: Review) -> bool:
    """Whether this reviewer chose plain (import) order over priority order, in this browser session."""
    return bool(request.session.get(f"screening-plain-{review.pk}"))


def _pane_context(
    review: Review,
    user: User | AnonymousUser,
    stage: str,
    error: str = "",
    record_id: int | None = None,
    plain: bool = False,
) -> dict:
    # Settings and priority model read once and passed on: this runs on every screening step.
    settings = services.settings_for(review)
    model = selectors.priority_active(review=review, stage=stage)
    record = None
    if record_id is not None:  # show this record again (an error on it, or an undo)
        record = selectors.queue_for(review=review, user=user, stage=stage).filter(pk=record_id).first()
    if record is None:
        record = selectors.next_record(review=review, user=user, stage=stage, plain=plain, ranked=model is not None)
    return {
        "review": review,
        "stage": stage,
        "stage_label": Stage(stage).label,
        "record": record,
        "error": error,
        "progress": selectors.progress(review=review, user=user, stage=stage, settings=settings),
        "include_terms": ScreeningSettings.terms(settings.include_terms),
        "exclude_terms": ScreeningSettings.terms(settings.exclude_terms),
        "reasons": settings.exclusion_reasons,
        "full_text": stage == Stage.FULL_TEXT,
        "fulltext": FullText.objects.filter(record=record).first() if record and stage == Stage.FULL_TEXT else None,
        "max_pdf_mb": django_settings.SIEVE_MAX_PDF_MB,
        "priority_model": model,
        "priority_on": settings.priority and stage == Stage.TITLE_ABSTRACT,
        "plain": plain,
    }


def screen(request: HttpRequest, review_id: int, stage: str) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    context = _pane_context(review, request.user, _stage(stage), plain=_plain(request, review))
    return render(request, "screening/screen.html", context)


@require_POST
def order(request: HttpRequest, review_id: int, stage: str) -> HttpResponse:
    """Switch between priority order and plain (import) order, for this reviewer in this browser session."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    request.session[f"screening-plain-{review.pk}"] = request.POST.get("order") == "plain"
    return redirect("screening:screen", review_id=review.pk, stage=_stage(stage))


def _after_step(request: HttpRequest, review: Review, stage: str, error: str, record_id: int | None) -> HttpResponse:
    """After a decision or an undo: the next (or that) record's pane for htmx, else back to the page."""
    if not request.htmx:  # type: ignore[attr-defined]
        if error:
            messages.error(request, error)
        return redirect("screening:screen", review_id=review.pk, stage=stage)
    context = _pane_context(review, request.user, stage, error, record_id, _plain(request, review))
    return render(request, "screening/_pane.html", {**context, "oob": True})


@require_POST
def decide(request: HttpRequest, review_id: int, stage: str) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    stage = _stage(stage)
    record_id = request.POST.get("record", "")
    error = ""
    try:
        services.decision_create(
            user=request.user,
            review_id=review.pk,
            record_id=record_id,
            stage=stage,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            note=request.POST.get("note", ""),
        )
    except ServiceConflict as exc:
        error = exc.message
    except ValidationError as exc:
        error = " ".join(exc.messages)
    again = int(record_id) if error and record_id.isdigit() else None
    return _after_step(request, review, stage, error, again)


@require_POST
def undo(request: HttpRequest, review_id: int, stage: str) -> HttpResponse:
    """Take back my latest decision at this stage that can still change, and show that record again."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    stage = _stage(stage)
    latest = selectors.decision_list(review=review, user=request.user, stage=stage).filter(
        reviewer=cast(User, request.user)
    )
    error, again = "", None
    mine = latest.first()
    if mine is None:
        error = "Nothing to undo."
    else:
        try:
            again = services.decision_undo(user=request.user, review_id=review.pk, decision_id=mine.pk)
        except ServiceConflict as exc:
            error = exc.message
    return _after_step(request, review, stage, error, again)


def mine(request: HttpRequest, review_id: int, stage: str) -> HttpResponse:
    """My decisions at a stage, newest first, to revisit and change while they are open."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    stage = _stage(stage)
    decisions = selectors.decision_list(review=review, user=request.user, stage=stage).filter(
        reviewer=cast(User, request.user)
    )
    page = Paginator(decisions, 50).get_page(request.GET.get("page"))
    context = {"review": review, "stage": stage, "stage_label": Stage(stage).label, "page": page,
               "choices": Choice.choices, "reasons": services.settings_for(review).exclusion_reasons}  # fmt: skip
    return render(request, "screening/mine.html", context)


@require_POST
def change(request: HttpRequest, review_id: int, stage: str, decision_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id)
    try:
        services.decision_update(
            user=request.user,
            review_id=review.pk,
            decision_id=decision_id,
            decision=request.POST.get("decision") or None,
            reason=request.POST.get("reason"),
        )
    except (ServiceConflict, ValidationError) as exc:
        messages.error(request, exc.message if isinstance(exc, ServiceConflict) else " ".join(exc.messages))
    else:
        messages.success(request, "Decision changed.")
    return redirect("screening:mine", review_id=review.pk, stage=_stage(stage))


def conflicts(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    stage = request.GET.get("stage") or Stage.TITLE_ABSTRACT
    stage = _stage(stage)
    page = Paginator(selectors.conflict_list(review=review, stage=stage), 25).get_page(request.GET.get("page"))
    decisions = selectors.decisions_of(list(page.object_list))
    rows = [(outcome, decisions.get((outcome.record_id, outcome.stage), [])) for outcome in page.object_list]
    context = {"review": review, "stage": stage, "stages": Stage.choices, "page": page, "rows": rows,
               "reasons": services.settings_for(review).exclusion_reasons}  # fmt: skip
    return render(request, "screening/conflicts.html", context)


@require_POST
def resolve(request: HttpRequest, review_id: int, conflict_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    try:
        outcome = services.conflict_resolve(
            user=request.user,
            review_id=review.pk,
            conflict_id=conflict_id,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except (ServiceConflict, ValidationError) as exc:
        messages.error(request, exc.message if isinstance(exc, ServiceConflict) else " ".join(exc.messages))
        stage = request.POST.get("stage") or Stage.TITLE_ABSTRACT
    else:
        messages.success(request, f"Resolved: {outcome.decision}.")
        stage = outcome.stage
    return redirect(f"/reviews/{review.pk}/conflicts/?stage={_stage(stage)}")


class SettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    exclusion_reasons = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), help_text="Reasons for excluding a full text, one per line."
    )

    class Meta:
        model = ScreeningSettings
        fields = ["reviewers_needed", "blinded", "include_terms", "exclude_terms"]
        widgets = {
            "include_terms": forms.Textarea(attrs={"rows": 3}),
            "exclude_terms": forms.Textarea(attrs={"rows": 3}),
        }


@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.OWNER)
    current = services.settings_for(review)
    initial = {"version": current.version, "exclusion_reasons": "\n".join(current.exclusion_reasons)}
    form = SettingsForm(request.POST or None, instance=current, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.settings_update(user=request.user, review_id=review.pk, version=version, **data)
        except ServiceConflict as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Screening settings saved.")
            return redirect("screening:settings", review_id=review.pk)
    return render(request, "screening/settings.html", {"review": review, "form": form})


def prisma(request: HttpRequest, review_id: int) -> HttpResponse:
    review = review_get_for_user(user=request.user, review_id=review_id, role=Role.EDITOR)
    counts = selectors.prisma_counts(review=review)
    svg = render_svg(counts, title=review.title)
    if request.GET.get("download") == "svg":
        response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.svg"'
        return response
    if request.GET.get("download") == "png":
        response = HttpResponse(render_png(svg), content_type="image/png")
        response["Content-Disposition"] = f'attachment; filename="prisma-review-{review.pk}.png"'
        return response
    # Agreement as the worker last computed it (the API's endpoint computes it fresh): no scan of every
    # decision on each page view.
    context = {"review": review, "svg": svg, "problems": check(counts), "screening": selectors.dashboard(review=review)}
    return render(request, "screening/prisma.html", context)


def fulltext(request: HttpRequest, review_id: int, record_id: int) -> FileResponse:
    """A record's PDF, to members of its review only."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    found = FullText.objects.filter(review=review, record_id=record_id).exclude(file="").first()
    if found is None:
        raise Http404("This record has no PDF.")
    response = FileResponse(found.file.open("rb"), content_type="application/pdf", filename=found.filename)
    response["Content-Disposition"] = response["Content-Disposition"].replace("attachment", "inline")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    return response


@require_POST
def fulltext_change(request: HttpRequest, review_id: int, record_id: int) -> HttpResponse:
    """The full-text controls of the screening page: upload the PDF, mark it not retrieved, remove either."""
    review = review_get_for_user(user=request.user, review_id=review_id)
    # The record before the form: an id from another review is a 404 whatever was posted.
    get_object_or_404(Record, review=review, pk=record_id)
    action = request.POST.get("action", "")
    upload = request.FILES.get("file")
    try:
        if action == "upload" and isinstance(upload, UploadedFile):
            services.fulltext_upload(user=request.user, review_id=review.pk, record_id=record_id, file=upload)
            messages.success(request, "PDF attached.")
        elif action == "not_retrieved":
            services.fulltext_not_retrieved(
                user=request.user, review_id=review.pk, record_id=record_id, note=request.POST.get("note", "")
            )
            messages.success(request, "Marked as not retrieved; it leaves the full-text queue.")
        elif action == "remove":
            services.fulltext_remove(user=request.user, review_id=review.pk, record_id=record_id)
            messages.success(request, "Full text removed.")
        else:
            messages.error(request, "Choose a PDF to upload.")
    except ServiceConflict as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("screening:screen", review_id=review.pk, stage=Stage.FULL_TEXT)
