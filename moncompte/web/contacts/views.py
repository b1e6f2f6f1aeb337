"""Validating a contact channel (email or mobile) with a one-time code.

Used right after an account is created (it is usable only once a contact is validated) and to
add or change a contact later; changing when one is already validated asks for the password.
The pending code's flow lives in the session: its reference, channel and destination.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.services import account_usable, contact_validated
from moncompte.core.errors import DomainError, Throttled
from moncompte.verification.contacts import mask_destination
from moncompte.verification.models import Purpose
from moncompte.verification.services import (
    CodeSendRefused,
    challenge_check,
    challenge_current,
    challenge_issue,
    challenge_resend,
    new_flow_ref,
)
from moncompte.web.actors import actor_of
from moncompte.web.forms import CodeForm, ContactChoiceForm, CurrentPasswordForm
from moncompte.web.middleware import contact_not_required

PENDING_KEY = "moncompte_contact_pending"


@contact_not_required
@require_http_methods(["GET", "POST"])
def contact_validate_view(request):
    first_contact = not account_usable(request.user)
    pending = request.session.get(PENDING_KEY)
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "changer":
        request.session.pop(PENDING_KEY, None)
        return redirect("web:contact_validate")
    if pending and action in {"valider", "renvoyer", ""}:
        return _code_step(request, pending, first_contact)
    return _choice_step(request, first_contact)


def _purpose(first_contact: bool) -> str:
    return Purpose.CONTACT_VALIDATION if first_contact else Purpose.CONTACT_CHANGE


def _choice_step(request, first_contact: bool):
    form = ContactChoiceForm(request.POST or None)
    password_form = None if first_contact else CurrentPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        password_ok = password_form is None
        if password_form is not None and password_form.is_valid():
            # Throttled per account and journaled: a stolen session cannot guess the password here.
            try:
                reauthenticate(
                    actor=actor_of(request),
                    password=password_form.cleaned_data["current_password"],
                    purpose="contact_change",
                )
            except DomainError as error:
                password_form.add_error("current_password", error.message)
                if isinstance(error, Throttled):
                    status = 429
            else:
                password_ok = True
        if form.is_valid() and password_ok:
            channel, destination = form.cleaned_data["channel"], form.cleaned_data["destination"]
            flow_ref = new_flow_ref()
            try:
                challenge_issue(
                    purpose=_purpose(first_contact),
                    channel=channel,
                    destination=destination,
                    flow_ref=flow_ref,
                    account=request.user,
                )
            except CodeSendRefused as refused:
                form.add_error(refused.field, refused.message)
            else:
                request.session[PENDING_KEY] = {"flow_ref": flow_ref, "channel": channel, "destination": destination}
                return redirect("web:contact_validate")
    return render(
        request,
        "web/contact_choice.html",
        {"form": form, "password_form": password_form, "first_contact": first_contact},
        status=status,
    )


def _code_step(request, pending: dict, first_contact: bool):
    purpose = _purpose(first_contact)
    form = CodeForm(request.POST if request.POST.get("action") == "valider" else None)
    status = 200
    if request.method == "POST" and request.POST.get("action") == "renvoyer":
        challenge = challenge_current(flow_ref=pending["flow_ref"], purpose=purpose)
        if challenge is None:
            request.session.pop(PENDING_KEY, None)
            return redirect("web:contact_validate")
        result = challenge_resend(challenge=challenge)
        (messages.success if result.sent else messages.warning)(request, result.message)
        return redirect("web:contact_validate")
    if form.is_bound:
        status = 400
        if form.is_valid():
            result = challenge_check(flow_ref=pending["flow_ref"], purpose=purpose, code=form.cleaned_data["code"])
            if result.ok:
                contact_validated(
                    account=request.user,
                    kind=pending["channel"],
                    value=pending["destination"],
                    actor=actor_of(request),
                )
                request.session.pop(PENDING_KEY, None)
                messages.success(request, "Vos coordonnées sont validées.")
                return redirect("web:home")
            form.add_error("code", result.message)
    return render(
        request,
        "web/contact_code.html",
        {"form": form, "masked": mask_destination(pending["channel"], pending["destination"]), "pending": pending},
        status=status,
    )
