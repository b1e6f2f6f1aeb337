"""The contact details pages: the list (/mon-compte/coordonnees/), validating or changing a contact
with a one-time code, and removing one.

Validating is used right after an account is created (it is usable only once a contact is
validated) and to add or change a contact later; changing when one is already validated asks for
the password. The pending code's flow lives in the session: its reference, channel and destination.
The contacts are always the signed-in person's own (moncompte.accounts.services.contacts_of): the
id of anyone else's contact answers 404.
"""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.services import (
    LastContactRequired,
    account_usable,
    contact_remove,
    contact_validated,
    contacts_of,
    own_contact,
)
from moncompte.core.actors import ContactChannel
from moncompte.core.errors import DomainError, Throttled
from moncompte.verification.models import Purpose
from moncompte.web.actors import actor_of
from moncompte.web.contacts.forms import CurrentPasswordForm
from moncompte.web.flows import ContactStep
from moncompte.web.middleware import contact_not_required
from moncompte.web.signin.session import onboarding_or

PENDING_KEY = "moncompte_contact_pending"
# ?canal=email or ?canal=phone: the list's "Changer" and "Ajouter" buttons preselect the channel.
CHANNEL_PARAMETER = "canal"


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

    def render(self, template: str, context: dict, status: int = 200):
        form = context.get("form")
        channel = self.request.GET.get(CHANNEL_PARAMETER, "")
        if template == self.choice_template and not form.is_bound and channel in ContactChannel.values:
            form.initial["channel"] = channel
        return super().render(template, context, status)

    def validated(self, pending: dict):
        contact_validated(
            account=self.request.user,
            kind=pending["channel"],
            value=pending["destination"],
            actor=actor_of(self.request),
        )
        self.keep({})
        if self.first_contact:
            # The end of a first connection or an invitation: the account is usable from now on,
            # the moment for the first-connection screens (shown once per version).
            return HttpResponseRedirect(onboarding_or(self.request, reverse("web:home")))
        return redirect("web:contacts")


@contact_not_required
@require_http_methods(["GET", "POST"])
def contact_validate_view(request):
    return _ContactValidation(request).respond()


@require_GET
def contacts_view(request):
    rows = contacts_of(actor=actor_of(request))
    kinds = [
        {"kind": kind, "label": kind.label, "rows": [row for row in rows if row.contact.kind == kind]}
        for kind in (ContactChannel.EMAIL, ContactChannel.PHONE)
    ]
    return render(request, "web/contacts/list.html", {"kinds": kinds})


@require_http_methods(["GET", "POST"])
def contact_remove_view(request, contact_id: int):
    actor = actor_of(request)
    row = own_contact(actor=actor, contact_id=contact_id)  # anyone else's id: NotAllowed, a 404
    form = CurrentPasswordForm(request.POST or None)
    refusal = row.refusal
    status = 200
    if request.method == "POST":
        status = 400
        if row.removable and form.is_valid():
            try:
                removed = contact_remove(
                    actor=actor, contact_id=contact_id, password=form.cleaned_data["current_password"]
                )
            except LastContactRequired as refused:  # the other contact was removed meanwhile
                refusal = refused.message
            except DomainError as refused:
                form.add_error("current_password", refused.message)
                if isinstance(refused, Throttled):
                    status = 429
            else:
                messages.success(request, _removed_message(removed))
                return redirect("web:contacts")
    context = {"contact": row.contact, "form": form, "refusal": refusal, "failed": status >= 400}
    return render(request, "web/contacts/remove.html", context, status=status)


def _removed_message(contact) -> str:
    if contact.kind == ContactChannel.EMAIL:
        if contact.verified_at:
            return (
                "L'adresse électronique a été supprimée de vos coordonnées ; "
                "un message vous en informe à cette adresse."
            )
        return "L'adresse électronique a été supprimée."
    if contact.verified_at:
        return "Le numéro de téléphone mobile a été supprimé de vos coordonnées ; un SMS vous en informe sur ce numéro."
    return "Le numéro de téléphone mobile a été supprimé."
