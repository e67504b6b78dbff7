from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.forms import SignupForm
from core.health import broker_status, database_status


def home(request: HttpRequest) -> HttpResponse:
    return redirect("reviews:list")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in ("ok", "eager") for value in body.values())
    return JsonResponse(body, status=200 if healthy else 503)


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIEVE_ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off on this server; ask an administrator for an account.")
    if request.user.is_authenticated:
        return redirect("reviews:list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Sieve, {user.username}.")
        return redirect("reviews:list")
    return render(request, "registration/signup.html", {"form": form})


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that could fail again: the 500 page must always render.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
