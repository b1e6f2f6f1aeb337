"""The FranceConnect pages (moncompte.web.franceconnect): start, callback, confirmation, the
identity check offered when nobody was recognised, the optional password, the logout's return.

With FranceConnect off (no MONCOMPTE_FRANCECONNECT_ISSUER) every one of them answers 404.

Every failure leaves nobody signed in and answers a French page: a refused or failed check
journals its reason code (never a token nor a claim) and answers 400 (what the browser brought:
an unknown or replayed state, a wrong ``iss``) or 502/503 (what FranceConnect answered, or that it
did not answer), never 500.
"""

from __future__ import annotations

import logging

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.accounts.passwords import password_min_length
from moncompte.accounts.recovery import PasswordRefused
from moncompte.accounts.services import account_usable
from moncompte.accounts.sessions import session_rekeyed
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.errors import DomainError
from moncompte.franceconnect import client
from moncompte.franceconnect.client import FranceConnectFailure
from moncompte.franceconnect.identity import IdentityUnusable, PivotIdentity
from moncompte.franceconnect.services import (
    FranceConnectRefused,
    Recognition,
    franceconnect_link_confirm,
    franceconnect_link_used,
    franceconnect_password_set,
    franceconnect_recognise,
)
from moncompte.identity.models import Person
from moncompte.web.actors import actor_of
from moncompte.web.franceconnect import state
from moncompte.web.franceconnect.forms import OptionalPasswordForm
from moncompte.web.middleware import contact_not_required
from moncompte.web.signin.session import open_web_session, remember_device, sign_in_and_redirect
from moncompte.web.signin.targets import after_signin, local_path

logger = logging.getLogger(__name__)

# The failure pages: a title and what to say, by kind.
FAILED = "failed"  # a check failed, or FranceConnect answered something wrong
CANCELLED = "cancelled"  # the person cancelled at FranceConnect (access_denied)
UNAVAILABLE = "unavailable"  # FranceConnect could not be reached
EXPIRED = "expired"  # an unknown, replayed or expired state; a confirmation already done
REFUSED = "refused"  # a refusal of the domain (too young, link no longer matching...)


def _enabled_or_404() -> None:
    if not client.is_enabled():
        raise Http404("FranceConnect n'est pas proposé.")


def _callback_uri(request) -> str:
    return request.build_absolute_uri(reverse("web:franceconnect_callback"))


def _page(request, kind: str, status: int, message: str = ""):
    return render(request, "web/franceconnect/failure.html", {"kind": kind, "message": message}, status=status)


def _failed(request, reason: str, *, kind: str = FAILED, status: int = 502):
    """Journal the reason (its own transaction, nobody signed in) and answer its page."""
    logger.warning("FranceConnect sign-in failed: %s", reason)
    journal_record(action=JournalAction.FRANCECONNECT_FAILED, actor=actor_of(request), detail={"reason": reason})
    return _page(request, kind, status)


def _failure(request, failure: FranceConnectFailure):
    kind = UNAVAILABLE if failure.status == 503 else FAILED
    return _failed(request, failure.reason, kind=kind, status=failure.status)


def _technical(request):
    return _page(request, UNAVAILABLE, 503)


# Start and callback ---------------------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def start_view(request):
    """The button's form (POST, CSRF-protected); a GET starts it too (a link, a bookmark)."""
    _enabled_or_404()
    next_url = local_path(request.POST.get("next") or request.GET.get("next"))
    sign_in_state, nonce = client.new_secret(), client.new_secret()
    try:
        url = client.authorization_url(redirect_uri=_callback_uri(request), state=sign_in_state, nonce=nonce)
    except FranceConnectFailure as failure:
        return _failure(request, failure)
    state.authorization_remember(request, state=sign_in_state, nonce=nonce, next_url=next_url)
    return HttpResponseRedirect(url)


@login_not_required
@require_GET
def callback_view(request):
    _enabled_or_404()
    started = state.authorization_pop(request, request.GET.get("state"))
    if started is None:
        return _failed(request, "unknown_state", kind=EXPIRED, status=400)
    issuer = request.GET.get("iss")
    if issuer is not None and issuer != client.issuer():
        return _failed(request, "wrong_iss_parameter", status=400)
    error = request.GET.get("error")
    if error:
        if error == "access_denied":
            return _failed(request, "access_denied", kind=CANCELLED, status=400)
        return _failed(request, "provider_error")
    code = request.GET.get("code")
    if not code:
        return _failed(request, "no_code", status=400)
    try:
        tokens = client.sign_in_tokens(code=code, redirect_uri=_callback_uri(request), nonce=started["nonce"])
        identity = PivotIdentity.from_claims(client.userinfo(tokens))
    except FranceConnectFailure as failure:
        return _failure(request, failure)
    except IdentityUnusable as unusable:
        return _failed(request, f"claim_unusable_{unusable.claim}")
    try:
        recognised = franceconnect_recognise(actor=actor_of(request), sub=tokens.sub, identity=identity)
    except FranceConnectRefused as refused:
        return _page(request, REFUSED, 403, refused.message)
    if recognised.outcome is Recognition.LINKED:
        return _sign_in(request, recognised.account, tokens.id_token, tokens.sub, started["next"])
    if recognised.outcome is Recognition.TO_CONFIRM:
        state.pending_start(
            request,
            sub=tokens.sub,
            identity=identity,
            person_id=recognised.person.pk,
            id_token=tokens.id_token,
            next_url=started["next"],
        )
        return redirect("web:franceconnect_confirm")
    state.prefill_keep(request, identity)
    return redirect("web:franceconnect_not_recognised")


def _sign_in(request, account, id_token: str, sub: str, next_url: str):
    """Sign in an account that had one before: its session, then where it was going."""
    try:
        franceconnect_link_used(sub=sub)
        response = sign_in_and_redirect(
            request, account, account.person.identifier, JournalAction.FRANCECONNECT_SIGNIN, after_signin(next_url)
        )
    except DatabaseError as error:
        logger.error("FranceConnect sign-in could not be completed: %s", type(error).__name__)
        return _technical(request)
    state.signed_in_through_franceconnect(request, id_token)
    return response


# The first time: the person confirms who they are ---------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def confirm_view(request):
    _enabled_or_404()
    pending = state.pending_get(request)
    if not pending:
        # Expired, already confirmed (a second submission, another tab) or never started.
        return _page(request, EXPIRED, 400 if request.method == "POST" else 200)
    person = Person.objects.filter(pk=pending["person_id"]).first()
    if person is None:
        state.pending_clear(request)
        return _page(request, EXPIRED, 400)
    if request.method == "POST":
        return _confirm(request, pending)
    context = {
        "first_name": person.first_names.split()[0] if person.first_names else "",
        "birth_name": person.birth_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "has_account": hasattr(person, "account"),
    }
    return render(request, "web/franceconnect/confirm.html", context)


def _confirm(request, pending: dict):
    identity = PivotIdentity.from_session(pending["identity"])
    try:
        confirmed = franceconnect_link_confirm(
            actor=actor_of(request), sub=pending["sub"], identity=identity, person_id=pending["person_id"]
        )
    except FranceConnectRefused as refused:
        state.pending_clear(request)
        return _page(request, REFUSED, 403, refused.message)
    state.pending_clear(request)
    account = confirmed.account
    if not confirmed.account_created:
        return _sign_in(request, account, pending["id_token"], pending["sub"], pending.get("next", ""))
    # A new account: signed in, then the optional password, then the contact validation (its
    # page ends with the first-connection screens and the home page).
    try:
        open_web_session(request, account, JournalAction.FRANCECONNECT_SIGNIN)
    except DatabaseError as error:
        logger.error("FranceConnect sign-in could not be completed: %s", type(error).__name__)
        return _technical(request)
    state.signed_in_through_franceconnect(request, pending["id_token"])
    request.session[state.NEW_ACCOUNT] = True
    response = redirect("web:franceconnect_password")
    remember_device(response, account.person.identifier)
    return response


@login_not_required
@require_GET
def not_recognised_view(request):
    """No person, or several, for the identity: the same page (nothing tells them apart)."""
    _enabled_or_404()
    if request.user.is_authenticated:
        return redirect("web:home")
    if state.prefill_identity(request) is None:
        return redirect("web:signin")
    return render(request, "web/franceconnect/not_recognised.html")


# The optional password of an account created through FranceConnect ---------------------------


def _after_password(request):
    request.session.pop(state.NEW_ACCOUNT, None)
    return redirect("web:home" if account_usable(request.user) else "web:contact_validate")


@login_not_required  # signed in, checked below: FranceConnect off answers 404 first
@contact_not_required
@require_http_methods(["GET", "POST"])
def password_view(request):
    """Offered once, right after the account was created through FranceConnect; before the
    contact validation, whose page ends the account's creation (and says so)."""
    _enabled_or_404()
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not request.session.get(state.NEW_ACCOUNT) or request.user.has_usable_password():
        return _after_password(request)
    if request.method == "POST" and request.POST.get("action") == "passer":
        return _after_password(request)
    form = OptionalPasswordForm(request.POST or None, person=request.user.person)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            old_key = request.session.session_key
            try:
                account = franceconnect_password_set(actor=actor_of(request), password=form.cleaned_data["password"])
            except PasswordRefused as refused:
                for message in refused.messages:
                    form.add_error(refused.field, message)
            except DomainError as refused:
                form.add_error(None, refused.message)
            else:
                # The session stays valid with the new hash, under a new key; its record follows.
                update_session_auth_hash(request, account)
                session_rekeyed(old_key=old_key, new_key=request.session.session_key)
                return _after_password(request)
    context = {"form": form, "min_length": password_min_length()}
    return render(request, "web/franceconnect/password.html", context, status=status)


# The logout through FranceConnect's session end --------------------------------------------------


def signout_redirect(request, id_token: str | None):
    """For the sign-out of a session opened through FranceConnect (its id_token read before the
    session ended): the redirect to FranceConnect's session end, or None (the usual sign-out
    page then; ours is ended already, whatever FranceConnect does)."""
    if not id_token or not client.is_enabled():
        return None
    logout_state = client.new_secret()
    return_uri = request.build_absolute_uri(reverse("web:franceconnect_logout_return"))
    try:
        url = client.end_session_url(id_token_hint=id_token, state=logout_state, post_logout_redirect_uri=return_uri)
    except FranceConnectFailure as failure:
        logger.warning("FranceConnect logout skipped: %s", failure.reason)
        return None
    state.logout_remember(request, logout_state)
    return HttpResponseRedirect(url)


@login_not_required
@require_GET
def logout_return_view(request):
    _enabled_or_404()
    if not state.logout_pop(request, request.GET.get("state")):
        return render(request, "web/franceconnect/logout_unknown.html", status=400)
    return HttpResponseRedirect(reverse("web:signin") + "?deconnecte=1")
