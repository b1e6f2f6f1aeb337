"""Pages of the assisted first connection, for the person at the counter (/premiere-connexion/accompagnee/).

The agent gave the person a handoff code (moncompte.backoffice.assisted); the person types it
here, on the counter's public terminal or their own phone, then confirms their name and chooses
their own password, which only this browser and moncompte.accounts.assisted ever see. The
session holds the claimed flow's id only (with a renewed key once the code is accepted); the
domain re-checks everything. Then the person is signed in on this device and validates a
contact, as after every first connection; the shared-terminal advice comes with them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from moncompte.accounts.assisted import (
    AssistedError,
    assisted_first_connection_claim,
    assisted_first_connection_complete,
    assisted_first_connection_decline,
    assisted_first_connection_pending,
)
from moncompte.accounts.passwords import password_min_length
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor, Channel
from moncompte.web.actors import client_address
from moncompte.web.assisted.forms import HandoffCodeForm
from moncompte.web.errors import add_domain_error
from moncompte.web.flows import FlowState, render_step
from moncompte.web.forms import NewPasswordForm
from moncompte.web.signin.session import close_web_session, open_web_session

# The domain's expiry (MONCOMPTE_ASSISTED_MINUTES, at most 60) decides; the state never outlives it.
FLOW = FlowState("moncompte_assisted", max_age=60 * 60)
STEPS = ["Le code de l'agent d'accueil", "Votre mot de passe", "Vos coordonnées"]
SHARED_TERMINAL = (
    "Vous êtes connecté(e) à votre compte sur cet appareil. Sur la borne de l'accueil ou sur un appareil "
    "que d'autres personnes utilisent, pensez à vous déconnecter à la fin (bouton « Se déconnecter » "
    "en haut de la page)."
)
# Refusals after which the flow is over for this browser: the person asks the agent for a new code.
_ENDED = ("expired", "used", "no_longer_valid", "too_many_attempts")


def _visitor(request) -> Actor:
    """The person at the terminal, not signed in, whoever may still be signed in on it (the
    session opened at the end replaces any other)."""
    return Actor.visitor(
        channel=Channel.WEB, client_address=client_address(request), session_key=request.session.session_key
    )


def _ended(request, error: AssistedError):
    FLOW.clear(request)
    return render(request, "web/assisted/ended.html", {"message": error.message}, status=error.status)


@login_not_required
@require_http_methods(["GET", "POST"])
def claim_view(request):
    form = HandoffCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                assisted = assisted_first_connection_claim(
                    actor=_visitor(request), handoff_code=form.cleaned_data["code"]
                )
            except AssistedError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                if request.user.is_authenticated:
                    # A shared terminal left signed in: that person's session ends before this one.
                    close_web_session(request, reason="replaced")
                else:
                    # A new session key once the code is accepted: a key planted earlier is worthless.
                    request.session.cycle_key()
                FLOW.start(request, assisted_id=assisted.pk)
                return redirect("web:assisted_password")
    return render_step(request, "web/assisted/claim.html", STEPS, 1, {"form": form}, status)


@login_not_required
@require_http_methods(["GET", "POST"])
def password_view(request):
    state = FLOW.get(request)
    if "assisted_id" not in state:
        return redirect("web:assisted_claim")
    try:
        assisted = assisted_first_connection_pending(assisted_id=state["assisted_id"])
    except AssistedError as error:
        return _ended(request, error)
    if request.method == "POST" and request.POST.get("action") == "pas_moi":
        try:
            assisted_first_connection_decline(actor=_visitor(request), assisted_id=assisted.pk)
        except AssistedError as error:
            return _ended(request, error)
        FLOW.clear(request)
        return render(request, "web/assisted/declined.html")
    person = assisted.person
    form = NewPasswordForm(request.POST or None, person=person)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                account = assisted_first_connection_complete(
                    actor=_visitor(request), assisted_id=assisted.pk, password=form.cleaned_data["password"]
                )
            except AssistedError as error:
                if error.code in _ENDED:
                    return _ended(request, error)
                add_domain_error(form, error)
                status = error.status
            else:
                FLOW.clear(request)
                open_web_session(request, account, JournalAction.ASSISTED_SIGNED_IN)
                messages.info(request, SHARED_TERMINAL)
                return redirect("web:contact_validate")
    context = {"form": form, "person": person, "min_length": password_min_length()}
    return render_step(request, "web/assisted/password.html", STEPS, 2, context, status)
