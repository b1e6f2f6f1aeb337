"""Pages of the password reset (/mot-de-passe-oublie/) and of the password change
(/mon-compte/mot-de-passe/). The rules live in moncompte.accounts.recovery.

The reset's state lives in the server-side session only (flow references, the account id, the
throttling key), never in the page or a cookie: the pages of an unknown identifier and of a real
account are the same bytes. Each step refuses to run without the previous one; the state dies
after CODE_STAGE_SECONDS, and PASSWORD_STAGE_SECONDS once the code is proven.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.accounts.models import Account
from moncompte.accounts.passwords import password_min_length
from moncompte.accounts.recovery import (
    PasswordRefused,
    masked_contacts,
    password_change,
    password_reset_complete,
    password_reset_request,
    password_reset_verify,
    reset_request_min_seconds,
    session_rekeyed,
)
from moncompte.web.actors import actor_of
from moncompte.web.flows import FlowState, answer_no_sooner
from moncompte.web.recovery.forms import PasswordChangeForm, ResetCodeForm, ResetIdentifierForm, ResetPasswordForm
from moncompte.web.signin.session import device_token

CODE_STAGE_SECONDS = 30 * 60
PASSWORD_STAGE_SECONDS = 15 * 60
# One state for both stages: proving the code replaces the code stage's state.
FLOW = FlowState("moncompte_password_reset", max_age=CODE_STAGE_SECONDS)


def _state(request, stage: str) -> dict | None:
    state = FLOW.get(request)
    return state if state.get("stage") == stage else None


def _signed_in_redirect(request):
    messages.info(request, "Vous êtes connecté(e) : vous pouvez changer votre mot de passe sur cette page.")
    return redirect("web:password_change")


@login_not_required
@require_http_methods(["GET", "POST"])
def reset_request_view(request):
    if request.user.is_authenticated:
        return _signed_in_redirect(request)
    form = ResetIdentifierForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            started = time.monotonic()
            result = password_reset_request(
                actor=actor_of(request),
                identifier=form.cleaned_data["identifier"],
                device_token=device_token(request),
            )
            if result.throttled:
                # The same for every identifier, and nothing was done: no need to wait.
                form.add_error(None, result.wait_message())
                return render(request, "web/recovery/request.html", {"form": form}, status=429)
            FLOW.start(
                request,
                stage="code",
                flow_refs=list(result.flow_refs),
                account_id=result.account_id,
                throttle_key=result.throttle_key,
                former_identifier=result.former_identifier,
            )
            answer_no_sooner(started, reset_request_min_seconds())
            return redirect("web:password_reset_code")
    return render(request, "web/recovery/request.html", {"form": form}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def reset_code_view(request):
    if request.user.is_authenticated:
        return _signed_in_redirect(request)
    state = _state(request, "code")
    if state is None:
        return redirect("web:password_reset")
    form = ResetCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            check = password_reset_verify(
                actor=actor_of(request),
                flow_refs=state["flow_refs"],
                account_id=state["account_id"],
                throttle_key=state["throttle_key"],
                code=form.cleaned_data["code"],
            )
            if check.ok:
                # A new session key once the code is proven: a key planted earlier is worthless.
                request.session.cycle_key()
                FLOW.start(
                    request,
                    max_age=PASSWORD_STAGE_SECONDS,
                    stage="password",
                    account_id=check.account.pk,
                    former_identifier=state.get("former_identifier", False),
                )
                return redirect("web:password_reset_password")
            form.add_error("code", check.message)
            if check.wait_seconds:
                status = 429
    return render(
        request,
        "web/recovery/code.html",
        {"form": form, "minutes": settings.MONCOMPTE_CODE_TTL_SECONDS // 60},
        status=status,
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def reset_password_view(request):
    if request.user.is_authenticated:
        return _signed_in_redirect(request)
    state = _state(request, "password")
    if state is None:
        return redirect("web:password_reset")
    account = Account.objects.filter(pk=state["account_id"], is_active=True).select_related("person").first()
    if account is None:
        FLOW.clear(request)
        return redirect("web:password_reset")
    form = ResetPasswordForm(request.POST or None, person=account.person)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                password_reset_complete(
                    actor=actor_of(request),
                    account=account,
                    password=form.cleaned_data["password"],
                    device_token=device_token(request),
                )
            except PasswordRefused as refused:
                for message in refused.messages:
                    form.add_error(refused.field, message)
            else:
                FLOW.clear(request)
                text = "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."
                if state.get("former_identifier"):
                    text += (
                        " Votre identifiant a changé : connectez-vous désormais avec le numéro "
                        f"{account.person.identifier.display()}."
                    )
                messages.success(request, text)
                return redirect("web:signin")
    return render(
        request,
        "web/recovery/new_password.html",
        {"form": form, "masked_contacts": masked_contacts(account), "min_length": password_min_length()},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def password_change_view(request):
    form = PasswordChangeForm(request.POST or None, person=request.user.person)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            old_key = request.session.session_key
            try:
                ended = password_change(
                    actor=actor_of(request),
                    current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["password"],
                )
            except PasswordRefused as refused:
                for message in refused.messages:
                    form.add_error(refused.field, message)
                if refused.code == "throttled":
                    status = 429
            else:
                # The session stays valid with the new hash, under a new key; its record follows.
                update_session_auth_hash(request, request.user)
                session_rekeyed(old_key=old_key, new_key=request.session.session_key)
                text = "Votre mot de passe a été modifié."
                if ended == 1:
                    text += " Votre autre session ouverte a été fermée."
                elif ended > 1:
                    text += f" Vos {ended} autres sessions ouvertes ont été fermées."
                messages.success(request, text)
                return redirect("web:home")
    return render(
        request,
        "web/recovery/change.html",
        {"form": form, "min_length": password_min_length()},
        status=status,
    )
