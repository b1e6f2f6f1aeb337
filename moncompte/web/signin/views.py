"""Pages for usagers. Thin: parse the request, call a service or the policy, render."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.accounts.signin import credentials_check
from moncompte.audit.actions import JournalAction
from moncompte.core.waits import wait_text
from moncompte.web.actors import actor_of
from moncompte.web.signin.forms import SigninForm
from moncompte.web.signin.session import device_token, open_web_session, remember_device, sign_out

logger = logging.getLogger(__name__)


def _wait_message(seconds: int) -> str:
    return f"Trop de tentatives de connexion. Réessayez dans {wait_text(seconds)}."


@login_not_required
@require_http_methods(["GET", "POST"])
def signin_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated and request.method == "GET":
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)

    form = SigninForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            identifier = form.cleaned_data["identifier"]
            outcome = credentials_check(
                actor=actor_of(request),
                identifier=identifier,
                password=form.cleaned_data["password"],
                device_token=device_token(request),
            )
            if outcome.succeeded:
                open_web_session(request, outcome.account, JournalAction.SIGNIN_SUCCESS)
                response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
                remember_device(response, identifier)
                return response
            if outcome.new_identifier is not None:
                form.add_error(
                    None,
                    "Votre identifiant a changé : un numéro de sécurité sociale vous a été attribué. "
                    f"Connectez-vous désormais avec le numéro {outcome.new_identifier.display()}.",
                )
                status = 400
            elif outcome.wait_seconds:
                form.add_error(None, _wait_message(outcome.wait_seconds))
                status = 429
            else:
                form.add_error(
                    None,
                    "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect.",
                )
                status = 401
        else:
            status = 400
    return render(request, "web/signin.html", {"form": form, "next": next_url}, status=status)


@login_not_required
@require_POST
def signout_view(request):
    sign_out(request)
    response = redirect(reverse("web:signin") + "?deconnecte=1")
    return response


@login_not_required
@require_GET
def root_view(request):
    return redirect("web:home" if request.user.is_authenticated else "web:signin")
