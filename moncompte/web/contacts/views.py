"""Validating a contact channel (email or mobile) with a one-time code.

Used right after an account is created (it is usable only once a contact is validated) and to
add or change a contact later; changing when one is already validated asks for the password.
The pending code's flow lives in the session: its reference, channel and destination.
"""

from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.services import account_usable, contact_validated
from moncompte.core.errors import DomainError, Throttled
from moncompte.verification.models import Purpose
from moncompte.web.actors import actor_of
from moncompte.web.contacts.forms import CurrentPasswordForm
from moncompte.web.flows import ContactStep
from moncompte.web.middleware import contact_not_required

PENDING_KEY = "moncompte_contact_pending"


class _ContactValidation(ContactStep):
    url_name = "web:contact_validate"
    choice_template = "web/contact_choice.html"
    code_template = "web/contact_code.html"

    def __init__(self, request):
        super().__init__(request)
        self.account = request.user
        self.first_contact = not account_usable(request.user)
        self.purpose = Purpose.CONTACT_VALIDATION if self.first_contact else Purpose.CONTACT_CHANGE
        self.password_form = None if self.first_contact else CurrentPasswordForm(request.POST or None)

    def pending(self) -> dict:
        return self.request.session.get(PENDING_KEY) or {}

    def keep(self, pending: dict) -> None:
        if pending:
            self.request.session[PENDING_KEY] = pending
        else:
            self.request.session.pop(PENDING_KEY, None)

    def may_send(self) -> int | None:
        if self.password_form is None:
            return None
        if not self.password_form.is_valid():
            return 400
        # Throttled per account and journaled: a stolen session cannot guess the password here.
        try:
            reauthenticate(
                actor=actor_of(self.request),
                password=self.password_form.cleaned_data["current_password"],
                purpose="contact_change",
            )
        except DomainError as error:
            self.password_form.add_error("current_password", error.message)
            return 429 if isinstance(error, Throttled) else 400
        return None

    def choice_context(self) -> dict:
        return {"password_form": self.password_form, "first_contact": self.first_contact}

    def validated(self, pending: dict):
        contact_validated(
            account=self.request.user,
            kind=pending["channel"],
            value=pending["destination"],
            actor=actor_of(self.request),
        )
        self.keep({})
        return redirect("web:home")


@contact_not_required
@require_http_methods(["GET", "POST"])
def contact_validate_view(request):
    return _ContactValidation(request).respond()
