"""Pages for usagers. Thin: parse the request, call a service or the policy, render.

Sign-in (/connexion/), and signing in with a code when the sign-in is throttled for this
browser (/connexion/code/, /connexion/code/saisie/; the rules: moncompte.accounts.unlock). The
code flow's state lives in the server-side session only (flow references, the account id when
the password was right, a stamp of its hash), never in the page or a cookie: the pages of an
unknown identifier, of a wrong password and of a real account are the same bytes.

An old numéro allocataire typed as the identifier (7 digits, the sign-in of before 9 October
2021, perhaps with the old 8-digit code as the password) is not a sign-in attempt: nothing is
checked, counted or journaled; the page says how the sign-in changed and keeps the numéro, in the
session only, for the first connection (the code is not kept: it is typed again there).
"""

import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from moncompte.accounts.signin import credentials_check
from moncompte.accounts.unlock import unlock_request, unlock_request_min_seconds, unlock_verify
from moncompte.audit.actions import JournalAction
from moncompte.core.waits import wait_text
from moncompte.web.actors import actor_of
from moncompte.web.first_connection.views import keep_numero
from moncompte.web.flows import FlowState, answer_no_sooner
from moncompte.web.franceconnect import state as franceconnect_state
from moncompte.web.franceconnect.views import signout_redirect as franceconnect_signout_redirect
from moncompte.web.signin.forms import SigninForm, UnlockCodeForm, UnlockRequestForm
from moncompte.web.signin.session import device_token, sign_in_and_redirect, sign_out
from moncompte.web.signin.targets import after_signin, local_path

logger = logging.getLogger(__name__)

# The code flow: a code lives 10 minutes; the state a little longer, then the flow starts over.
UNLOCK_FLOW = FlowState("moncompte_signin_unlock", max_age=15 * 60)

MESSAGE_TECHNICAL = "La connexion n'a pas pu aboutir à cause d'un incident technique. Réessayez dans quelques instants."


def _wait_message(seconds: int) -> str:
    return f"Trop de tentatives de connexion. Réessayez dans {wait_text(seconds)}."


def _next_of(request) -> str:
    """The local path asked for by ``next`` (form first, then query string), or ""."""
    return local_path(request.POST.get("next") or request.GET.get("next"))


def _sign_in(request, form, account, identifier, action, target):
    """The session opened and the redirect, or None with a French error on the form when the
    database refused (nothing is recorded then, and the browser stays signed out)."""
    try:
        return sign_in_and_redirect(request, account, identifier, action, target)
    except DatabaseError as error:
        # The class only: a database message may quote the values it refused (a session key).
        logger.error("Sign-in could not be completed: %s", type(error).__name__)
        form.add_error(None, MESSAGE_TECHNICAL)
        return None


@login_not_required
@require_http_methods(["GET", "POST"])
def signin_view(request):
    next_url = _next_of(request)
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(after_signin(next_url))

    form = SigninForm(request.POST or None)
    status = 200
    unlock_offer = False
    old_identifiers = form.old_identifiers()
    if old_identifiers is not None:
        keep_numero(request, old_identifiers.numero)
        # A fresh form: the numéro is no identifier of this page, and nothing was wrong with it.
        context = {"form": SigninForm(), "next": next_url, "unlock_offer": False, "old_identifiers": old_identifiers}
        return render(request, "web/signin.html", context)
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
                response = _sign_in(
                    request, form, outcome.account, identifier, JournalAction.SIGNIN_SUCCESS, after_signin(next_url)
                )
                if response is not None:
                    return response
                status = 503
            elif outcome.new_identifier is not None:
                form.add_error(
                    None,
                    "Votre identifiant a changé : un numéro de sécurité sociale vous a été attribué. "
                    f"Connectez-vous désormais avec le numéro {outcome.new_identifier.display()}.",
                )
                status = 400
            elif outcome.wait_seconds:
                form.add_error(None, _wait_message(outcome.wait_seconds))
                # Throttled for this browser: it may sign in with a code instead of waiting. The
                # same offer whatever the identifier (a wait tells nothing about it either).
                unlock_offer = True
                status = 429
            else:
                form.add_error(
                    None,
                    "Numéro de sécurité sociale, identifiant provisoire ou mot de passe incorrect.",
                )
                status = 401
        else:
            status = 400
    context = {"form": form, "next": next_url, "unlock_offer": unlock_offer, "old_identifiers": None}
    return render(request, "web/signin.html", context, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def unlock_request_view(request):
    """Step 1: identifier and password; a code goes to the contacts only if they are right."""
    if request.user.is_authenticated:
        return redirect("web:home")
    next_url = _next_of(request)
    if request.method == "POST" and request.POST.get("depuis_connexion"):
        # From the throttled sign-in page: the identifier typed there, the password to type again.
        form = UnlockRequestForm(initial={"identifier": request.POST.get("identifier", "")[:40]})
        return render(request, "web/signin_unlock.html", {"form": form, "next": next_url})
    form = UnlockRequestForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            started = time.monotonic()
            result = unlock_request(
                actor=actor_of(request),
                identifier=form.cleaned_data["identifier"],
                password=form.cleaned_data["password"],
            )
            if result.throttled:
                # The same for every identifier, and nothing was done: no need to wait.
                form.add_error(None, result.wait_message())
                return render(request, "web/signin_unlock.html", {"form": form, "next": next_url}, status=429)
            UNLOCK_FLOW.start(
                request,
                flow_refs=list(result.flow_refs),
                account_id=result.account_id,
                password_stamp=result.password_stamp,
                former_identifier=result.former_identifier,
                next=next_url,
            )
            answer_no_sooner(started, unlock_request_min_seconds())
            return redirect("web:signin_unlock_code")
    return render(request, "web/signin_unlock.html", {"form": form, "next": next_url}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def unlock_code_view(request):
    """Step 2: the code; once proven, the session and this browser's device token."""
    if request.user.is_authenticated:
        return redirect("web:home")
    state = UNLOCK_FLOW.get(request)
    if not state:
        return redirect("web:signin_unlock")
    form = UnlockCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            check = unlock_verify(
                actor=actor_of(request),
                flow_refs=state["flow_refs"],
                account_id=state["account_id"],
                password_stamp=state["password_stamp"],
                former_identifier=state.get("former_identifier", False),
                code=form.cleaned_data["code"],
            )
            if check.ok:
                UNLOCK_FLOW.clear(request)
                person = check.account.person
                if check.former_identifier:
                    messages.info(
                        request,
                        "Votre identifiant a changé : un numéro de sécurité sociale vous a été attribué. "
                        f"Connectez-vous désormais avec le numéro {person.identifier.display()}.",
                    )
                    return redirect("web:signin")
                target = after_signin(state.get("next"))
                response = _sign_in(
                    request, form, check.account, person.identifier, JournalAction.SIGNIN_UNLOCK_SUCCESS, target
                )
                if response is not None:
                    messages.success(
                        request, "Vous êtes connecté(e). Ce navigateur sera reconnu lors de vos prochaines connexions."
                    )
                    return response
                status = 503
            else:
                form.add_error("code", check.message)
                if check.wait_seconds:
                    status = 429
    return render(
        request,
        "web/signin_unlock_code.html",
        {"form": form, "minutes": settings.MONCOMPTE_CODE_TTL_SECONDS // 60},
        status=status,
    )


@login_not_required
@require_POST
def signout_view(request):
    # A session opened through FranceConnect ends there too: its id_token, read before ours ends.
    franceconnect_id_token = franceconnect_state.id_token_of(request)
    sign_out(request)
    response = franceconnect_signout_redirect(request, franceconnect_id_token)
    if response is None:
        response = redirect(reverse("web:signin") + "?deconnecte=1")
    return response


@login_not_required
@require_GET
def root_view(request):
    return redirect("web:home" if request.user.is_authenticated else "web:signin")
