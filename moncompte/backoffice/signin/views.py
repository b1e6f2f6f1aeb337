"""The agents' sign-in (password, then TOTP or a recovery code), sign-out, activation,
recovery codes and the change of their own password. Thin: parse the form, call
moncompte.agents.services, render or redirect.

The session cookie (moncompte.backoffice.session_cookie) is set after the password: the session
then reaches the second-factor pages only (``agent_required(second_factor=False)``). The
activation's steps keep their state (the agent and a stamp of the activation code, never the
code) in the server-side session only; the recovery codes are shown once, in the answer to the
request that made them, and kept nowhere.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from moncompte.accounts.passwords import password_min_length
from moncompte.accounts.recovery import PasswordRefused
from moncompte.agents.services import (
    ActivationRefused,
    ActivationTicket,
    activation_agent,
    activation_device,
    agent_activation_complete,
    agent_activation_password_set,
    agent_activation_start,
    agent_password_change,
    agent_recovery_code_use,
    agent_recovery_codes_regenerate,
    agent_second_factor_verify,
    agent_signin_password,
)
from moncompte.agents.sessions import agent_session_end
from moncompte.agents.totp import provisioning_uri, qr_svg, recovery_codes_remaining, secret_for_display
from moncompte.backoffice.access import agent_public, agent_required
from moncompte.backoffice.actors import actor_of_agent
from moncompte.backoffice.session_cookie import clear_agent_cookie, set_agent_cookie
from moncompte.backoffice.signin.forms import (
    ActivationCodeForm,
    AgentPasswordChangeForm,
    AgentPasswordForm,
    PasswordAgainForm,
    RecoveryCodeForm,
    SigninForm,
    TotpCodeForm,
)
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError
from moncompte.web.actors import client_address
from moncompte.web.errors import add_domain_error
from moncompte.web.flows import FlowState, render_step

# An activation, from the code to the recovery codes, is done in one sitting.
ACTIVATION_FLOW = FlowState("moncompte_agent_activation", max_age=30 * 60)
ACTIVATION_STEPS = ["Code d'activation", "Mot de passe", "Application d'authentification", "Codes de secours"]
# Below this many unused recovery codes, the pages suggest making new ones.
FEW_RECOVERY_CODES = 3


def _visitor(request) -> Actor:
    return Actor.visitor(channel=Channel.COUNTER, client_address=client_address(request))


def _refused(form, error: DomainError) -> int:
    add_domain_error(form, error)
    return error.status


@agent_public
@require_http_methods(["GET", "POST"])
def signin_view(request):
    session = request.agent_session
    if request.method == "GET" and session is not None:
        # Signed in, or waiting for the code (the way back from any console page): on its way.
        return redirect("backoffice:home" if session.second_factor_at is not None else "backoffice:second_factor")
    form = SigninForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                _new, token = agent_signin_password(
                    actor=_visitor(request), email=form.cleaned_data["email"], password=form.cleaned_data["password"]
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                if session is not None:  # a session this browser had: replaced, not left open
                    agent_session_end(session=session, reason="replaced")
                response = redirect("backoffice:second_factor")
                set_agent_cookie(response, token)
                return response
    return render(request, "backoffice/signin/signin.html", {"form": form}, status=status)


def _second_factor_page(request, form_class, service, template):
    session = request.agent_session
    if session.second_factor_at is not None:
        return redirect("backoffice:home")
    form = form_class(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                result = service(actor=actor_of_agent(request), session=session, code=form.cleaned_data["code"])
            except DomainError as error:
                status = _refused(form, error)
            else:
                return result
    return render(request, template, {"form": form, "agent": session.agent}, status=status)


@agent_required(second_factor=False)
@require_http_methods(["GET", "POST"])
def second_factor_view(request):
    def verify(**kwargs):
        token = agent_second_factor_verify(**kwargs)
        response = redirect("backoffice:home")
        set_agent_cookie(response, token)
        return response

    return _second_factor_page(request, TotpCodeForm, verify, "backoffice/signin/second_factor.html")


@agent_required(second_factor=False)
@require_http_methods(["GET", "POST"])
def recovery_code_view(request):
    def use(**kwargs):
        remaining, token = agent_recovery_code_use(**kwargs)
        text = f"Code de secours accepté. Il vous en reste {remaining}."
        if remaining <= FEW_RECOVERY_CODES:
            text += " Créez de nouveaux codes de secours depuis la page « Codes de secours »."
        messages.success(request, text)
        response = redirect("backoffice:home")
        set_agent_cookie(response, token)
        return response

    return _second_factor_page(request, RecoveryCodeForm, use, "backoffice/signin/recovery_code.html")


@agent_public
@require_POST
def signout_view(request):
    session = request.agent_session
    if session is not None:
        agent_session_end(session=session, reason="signed_out", actor=actor_of_agent(request))
        messages.success(request, "Vous êtes déconnecté(e) de l'espace agents.")
    response = redirect("backoffice:signin")
    clear_agent_cookie(response)
    return response


# Activation ----------------------------------------------------------------------------------


def _ticket(state: dict) -> ActivationTicket:
    return ActivationTicket(agent_id=state["agent_id"], stamp=state["stamp"])


@agent_public
@require_http_methods(["GET", "POST"])
def activate_view(request):
    """One address for the steps: the code, the password, the authenticator app; the recovery
    codes come in the answer to the last one. The step is the flow's, never the page's."""
    state = ACTIVATION_FLOW.get(request)
    if request.method == "POST" and request.POST.get("recommencer"):
        ACTIVATION_FLOW.clear(request)
        return redirect("backoffice:activate")
    agent = None
    if state:
        try:
            agent = activation_agent(ticket=_ticket(state))
        except ActivationRefused as error:
            ACTIVATION_FLOW.clear(request)
            messages.info(request, error.message)
            return redirect("backoffice:activate")
    if agent is None:
        return _activation_code_step(request)
    if state.get("stage") == "totp":
        return _activation_totp_step(request, state, agent)
    return _activation_password_step(request, state, agent)


def _activation_code_step(request):
    form = ActivationCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ticket = agent_activation_start(
                    actor=_visitor(request), email=form.cleaned_data["email"], code=form.cleaned_data["code"]
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                # A new session key for the flow: no planted session carries it.
                request.session.cycle_key()
                ACTIVATION_FLOW.start(request, agent_id=ticket.agent_id, stamp=ticket.stamp, stage="password")
                return redirect("backoffice:activate")
    return render_step(request, "backoffice/signin/activate_code.html", ACTIVATION_STEPS, 1, {"form": form}, status)


def _activation_password_step(request, state, agent):
    form = AgentPasswordForm(request.POST or None, agent=agent)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                agent_activation_password_set(
                    actor=_visitor(request), ticket=_ticket(state), password=form.cleaned_data["password"]
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                ACTIVATION_FLOW.save(request, {**state, "stage": "totp"})
                return redirect("backoffice:activate")
    context = {"form": form, "agent": agent, "min_length": password_min_length()}
    return render_step(request, "backoffice/signin/activate_password.html", ACTIVATION_STEPS, 2, context, status)


def _activation_totp_step(request, state, agent):
    ticket = _ticket(state)
    device = activation_device(ticket=ticket)
    if device is None:  # the password step was not done in this flow's code (cannot happen)
        ACTIVATION_FLOW.save(request, {**state, "stage": "password"})
        return redirect("backoffice:activate")
    form = TotpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                codes = agent_activation_complete(
                    actor=_visitor(request), ticket=ticket, code=form.cleaned_data["code"]
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                ACTIVATION_FLOW.clear(request)
                return render_step(
                    request,
                    "backoffice/signin/activate_done.html",
                    ACTIVATION_STEPS,
                    4,
                    {"codes": codes, "agent": agent},
                )
    context = {
        "form": form,
        "agent": agent,
        "secret": secret_for_display(device),
        "qr_code": qr_svg(provisioning_uri(device)),
    }
    return render_step(request, "backoffice/signin/activate_totp.html", ACTIVATION_STEPS, 3, context, status)


# Recovery codes ------------------------------------------------------------------------------


@agent_required()
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request):
    agent = request.agent_session.agent
    form = PasswordAgainForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                codes = agent_recovery_codes_regenerate(
                    actor=actor_of_agent(request), password=form.cleaned_data["password"]
                )
            except DomainError as error:
                status = _refused(form, error)
            else:
                return render(request, "backoffice/signin/recovery_codes_new.html", {"codes": codes})
    context = {"form": form, "remaining": recovery_codes_remaining(agent)}
    return render(request, "backoffice/signin/recovery_codes.html", context, status=status)


# Password change -----------------------------------------------------------------------------


@agent_required()
@require_http_methods(["GET", "POST"])
def password_change_view(request):
    agent = request.agent_session.agent
    form = AgentPasswordChangeForm(request.POST or None, agent=agent)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                ended, token = agent_password_change(
                    actor=actor_of_agent(request),
                    session=request.agent_session,
                    current_password=form.cleaned_data["current_password"],
                    new_password=form.cleaned_data["password"],
                )
            except PasswordRefused as refused:
                for message in refused.messages:
                    form.add_error(refused.field, message)
            except DomainError as error:
                status = _refused(form, error)
            else:
                text = "Votre mot de passe a été modifié."
                if ended == 1:
                    text += " Votre autre session ouverte a été fermée."
                elif ended > 1:
                    text += f" Vos {ended} autres sessions ouvertes ont été fermées."
                messages.success(request, text)
                response = redirect("backoffice:home")
                set_agent_cookie(response, token)
                return response
    context = {"form": form, "min_length": password_min_length()}
    return render(request, "backoffice/signin/password_change.html", context, status=status)
