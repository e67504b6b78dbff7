import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.api import SERVER_ERROR_DETAIL
from core.forms import SignupForm
from core.health import broker_status, database_status
from core.throttling import login_attempt_wait


def home(request: HttpRequest) -> HttpResponse:
    return redirect("reviews:list")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    body = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in ("ok", "eager") for value in body.values())
    return JsonResponse(body, status=200 if healthy else 503)


class LoginView(auth_views.LoginView):
    """Django's login page, with the password-guessing limit of the token endpoint (core.throttling). Over the
    limit the password is not even checked: the page answers 429 with the form and says when to try again."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if settings.SIEVE_DEMO_LOGIN_HINT:
            from core.demo.load import DEMO_USERS

            names = [username for username, *_ in DEMO_USERS]
            present = set(get_user_model().objects.filter(username__in=names).values_list("username", flat=True))
            context["demo_accounts"] = [(u, role.label.lower()) for u, _f, _l, role in DEMO_USERS if u in present]
        return context

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        wait = login_attempt_wait(request)
        if wait is None:
            return super().post(request, *args, **kwargs)
        seconds = max(1, math.ceil(wait))
        message = f"Too many login attempts. Try again in {seconds} second{'s' if seconds != 1 else ''}."

        class Refused(self.get_form_class()):  # type: ignore[misc,name-defined]
            def clean(self) -> None:  # instead of authenticate(): the password is not checked
                raise ValidationError(message, code="throttled")

        form = Refused(request, data=request.POST)
        form.is_valid()
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(seconds)
        return response


@login_not_required
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if not settings.SIEVE_ALLOW_SIGNUP:
        raise Http404("Sign-up is switched off on this server; ask an administrator for an account.")
    if request.user.is_authenticated:
        return redirect("reviews:list")
    if request.method == "POST" and (wait := login_attempt_wait(request)) is not None:
        # The form says whether a username or an e-mail address is taken, so sign-up attempts share the login
        # page's budget (core.throttling); over it the form is not even validated.
        seconds = max(1, math.ceil(wait))
        messages.error(request, f"Too many attempts. Try again in {seconds} second{'s' if seconds != 1 else ''}.")
        form = SignupForm(initial={"username": request.POST.get("username", "")})
        response = render(request, "registration/signup.html", {"form": form}, status=429)
        response["Retry-After"] = str(seconds)
        return response
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to Sieve, {user.username}.")
        return redirect("reviews:list")
    return render(request, "registration/signup.html", {"form": form})


def _is_api(request: HttpRequest) -> bool:
    """Errors that happen outside a DRF view (no URL matched, a middleware failed) under /api/ answer JSON in
    the shape of core.api.exception_handler, so that an API client never has to parse an HTML page."""
    return request.path.startswith("/api/")


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": str(exception or "") or "You do not have permission to do this."}, status=403)
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The exception's text is not shown: it can say which object was looked for and where.
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": SERVER_ERROR_DETAIL}, status=500)
    # No context processors that could fail again: the 500 page must always render.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render(), status=500)
