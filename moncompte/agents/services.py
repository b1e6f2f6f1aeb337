"""The agents' accounts: creation, activation, sign-in with the second factor, management.

- **No default password.** ``agent_create`` (the command, or an administrator of the same Caf)
  gives a single-use activation code (12 characters, shown once; its keyed hash only is kept,
  valid MONCOMPTE_AGENT_ACTIVATION_HOURS). With it the agent chooses a password (the usagers'
  policy, moncompte.accounts.passwords), enrols an authenticator app (TOTP) and gets ten
  recovery codes; the code is dead once the device is confirmed.
- **Sign-in** is the password (``agent_signin_password``: a session waiting for its second
  factor), then a TOTP code (``agent_second_factor_verify``) or a recovery code
  (``agent_recovery_code_use``). An agent without a confirmed device never gets a session.
- **The same answer whatever the email**: an unknown, deactivated or password-less agent costs
  the same Argon2 run (the usagers' dummy hash, moncompte.accounts.signin.password_matches) and
  the same throttling counters (moncompte.accounts.throttling: per email and per address,
  growing waits), and gets the same message.
- **Management** (deactivation, reactivation, roles, second factor reset) is decided by
  moncompte.access.agents only; a refusal there is ``NotAllowed`` (404). A command (the system
  actor) may do it on any agent: the way to give the national roles, and to reset the second
  factor of a Caf's only administrator.
- **An agent changes their own password** (``agent_password_change``) after typing the current
  one (throttled per agent, like every re-typing: ``agent-reauth``); their other sessions end.

Every outcome is journaled (moncompte.audit.actions, AGENT-SIGNIN), never with a code or a
password; refusals that must leave a trace (failed codes, throttled tries) are counted and
journaled outside any transaction that rolls back.
"""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from moncompte.access.agents import (
    AgentPermission,
    AgentRole,
    agent_caf_condition,
    agent_manageable,
    agent_may,
    roles_grantable_by,
)
from moncompte.accounts import throttling
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.reauth import WrongPassword
from moncompte.accounts.recovery import PasswordRefused
from moncompte.accounts.signin import password_matches
from moncompte.agents import totp
from moncompte.agents.models import Agent, AgentSession, AgentTOTPDevice
from moncompte.agents.sessions import (
    agent_actor,
    agent_session_open,
    agent_session_second_factor_done,
    agent_session_token_renew,
    agent_sessions_end_all,
)
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed, Throttled
from moncompte.core.waits import wait_text
from moncompte.households.models import Caf

ACTIVATION_CODE_LENGTH = 12
# Compared against when the email has no live activation: the same work for every email.
_NO_DIGEST = "0" * 64


# Refusals ------------------------------------------------------------------------------------


class AgentSigninRefused(DomainError):
    """Unknown email, wrong password, deactivated agent or none set yet: one answer."""

    code = "signin_refused"
    message = "Adresse électronique ou mot de passe incorrect."
    status = 401


class SecondFactorMissing(DomainError):
    """The right password, but no confirmed authenticator app: the activation is not done."""

    code = "second_factor_missing"
    message = (
        "Votre compte n'est pas encore activé, ou votre second facteur a été réinitialisé : terminez "
        "l'activation avec le code d'activation remis par l'administrateur des agents de votre Caf."
    )
    status = 403


class CodeRefused(DomainError):
    code = "code_refused"
    message = "Code incorrect ou expiré."

    def __init__(self, message: str | None = None, *, code: str | None = None, field: str | None = "code"):
        super().__init__(message, code=code, field=field)


class ActivationRefused(DomainError):
    code = "activation_refused"
    message = "Adresse électronique ou code d'activation incorrect."


class AgentError(DomainError):
    """A management request that cannot be done as asked (the message says why, in French)."""

    code = "agent_refused"


MESSAGE_ACTIVATION_EXPIRED = (
    "Ce code d'activation a expiré. Demandez-en un nouveau à l'administrateur des agents de votre Caf."
)
MESSAGE_WRONG_CURRENT = "Votre mot de passe actuel est incorrect."
MESSAGE_UNCHANGED = "Le nouveau mot de passe doit être différent de votre mot de passe actuel."
MESSAGE_ACTIVATION_OVER = (
    "Cette activation n'est plus en cours (terminée, expirée ou remplacée par un nouveau code). "
    "Recommencez avec votre code d'activation."
)


def _signin_wait_message(seconds: int) -> str:
    return f"Trop de tentatives de connexion. Réessayez dans {wait_text(seconds)}."


def _code_wait_message(seconds: int) -> str:
    return f"Trop de codes incorrects. Réessayez dans {wait_text(seconds)}."


# Shared helpers ------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    """The sign-in identifier as stored: trimmed, lower case (professional addresses are)."""
    return (value or "").strip().lower()[:254]


def _email_key(email: str) -> str:
    # Throttle keys hold a keyed digest only, never the address.
    return totp.keyed_digest("agent-email", email)[:32]


def _scopes(purpose: str, email: str, actor: Actor) -> list[throttling.ThrottleScope]:
    """Per email and per address, with the usagers' limits (growing waits), under keys of our own."""
    return [
        throttling.ThrottleScope(
            f"throttle:{purpose}:{_email_key(email)}",
            settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
            settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
        ),
        throttling.address_scope(purpose, actor.client_address or ""),
    ]


def _reauth_scopes(agent: Agent) -> list[throttling.ThrottleScope]:
    return [
        throttling.ThrottleScope(
            f"throttle:agent-reauth:{totp.keyed_digest('agent-id', str(agent.pk))[:32]}",
            settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER,
            settings.MONCOMPTE_THROTTLE_MAX_WAIT_PER_IDENTIFIER,
        )
    ]


def _reauthenticate(
    actor: Actor, agent: Agent, password: str, *, field: str = "password", message: str | None = None
) -> None:
    """The signed-in agent's password typed again: one scope per agent whatever the form
    (``agent-reauth``), growing waits past the free failures, each failure journaled. Raises
    ``Throttled`` (nothing checked) or ``WrongPassword``; call it outside any write transaction."""
    scopes = _reauth_scopes(agent)
    wait = throttling.scopes_wait(scopes)
    if wait:
        raise Throttled(wait, field=field)
    if not _password_ok(agent, password):
        throttling.scopes_failed(scopes)
        journal_record(action=JournalAction.AGENT_REAUTH_FAILURE, actor=actor, subject_person=None)
        raise WrongPassword(message, field=field)
    throttling.scopes_cleared(scopes)


def _password_ok(agent: Agent | None, password: str) -> bool:
    """Whether ``password`` is the password of an active ``agent``, after one Argon2 run whatever
    the agent (none, deactivated, no password yet: the usagers' dummy hash). A right password
    stored with older Argon2 parameters is re-derived."""
    if agent is not None and agent.is_active and agent.password:

        def rehash(raw: str) -> None:
            agent.password = make_password(raw)
            Agent.objects.filter(pk=agent.pk).update(password=agent.password)

        return check_password(password, agent.password, rehash)
    password_matches(None, password)
    return False


def _as_agent(actor: Actor, agent: Agent) -> Actor:
    """``actor`` (a visitor of the console) once ``agent`` proved who they are."""
    return Actor(channel=actor.channel, agent=agent, client_address=actor.client_address)


def _confirmed_device(agent_id: int, *, lock: bool = False) -> AgentTOTPDevice | None:
    devices = AgentTOTPDevice.objects.filter(agent_id=agent_id, confirmed_at__isnull=False)
    if lock:
        devices = devices.select_for_update()
    return devices.first()


def _count_code_failure(device_id: int) -> None:
    """One more wrong code on the device (django-otp's growing waits), committed at once."""
    with transaction.atomic():
        device = AgentTOTPDevice.objects.select_for_update().filter(pk=device_id).first()
        if device is not None:
            device.throttle_increment(commit=False)
            device.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count"])


# Creation and activation codes ---------------------------------------------------------------


def _activation_digest(agent_id: int, code: str) -> str:
    return totp.keyed_digest(f"agent-activation:{agent_id}", totp.normalise_code(code))


def _activation_issue(agent: Agent) -> str:
    """A new activation code for ``agent`` (caller's transaction), replacing any earlier one."""
    code = totp.random_code(ACTIVATION_CODE_LENGTH)
    agent.activation_digest = _activation_digest(agent.pk, code)
    agent.activation_expires_at = timezone.now() + datetime.timedelta(hours=settings.MONCOMPTE_AGENT_ACTIVATION_HOURS)
    agent.save(update_fields=["activation_digest", "activation_expires_at"])
    return totp.grouped(code, 4)


def _valid_email(email: str) -> str:
    email = normalise_email(email)
    try:
        EmailValidator()(email)
    except ValidationError:
        raise AgentError(
            "Saisissez une adresse électronique valide, par exemple prenom.nom@caf.fr.",
            code="invalid_email",
            field="email",
        ) from None
    return email


def _valid_roles(roles) -> list[str]:
    values: list[str] = []
    for value in roles or ():
        try:
            role = AgentRole(value).value
        except ValueError:
            raise AgentError("Ce rôle n'existe pas.", code="unknown_role", field="roles") from None
        if role not in values:
            values.append(role)
    if not values:
        raise AgentError("Choisissez au moins un rôle.", code="no_role", field="roles")
    return values


def _check_grantable(actor: Actor, roles: list[str]) -> None:
    """An administrator gives only the roles the policy lets them give; a command (the system,
    no agent) names any role, the national ones included."""
    if actor.agent is None:
        if actor.channel != Channel.SYSTEM:
            raise NotAllowed()
        return
    grantable = {role.value for role in roles_grantable_by(actor.agent)}
    if not set(roles) <= grantable:
        raise AgentError("Vous ne pouvez pas attribuer ce rôle.", code="role_not_grantable", field="roles")


def agent_create(
    *, actor: Actor, caf: Caf, email: str, first_names: str, last_name: str, roles: list[str]
) -> tuple[Agent, str]:
    """A new agent of ``caf`` without a password, and their activation code (shown once).

    By the command (``Actor.system()``), or by an administrator for their own Caf with the roles
    they may give (moncompte.access.agents)."""
    if actor.agent is not None and not agent_may(actor.agent, AgentPermission.MANAGE_AGENTS, caf_id=caf.pk):
        raise NotAllowed()
    roles = _valid_roles(roles)
    _check_grantable(actor, roles)
    email = _valid_email(email)
    first_names, last_name = (first_names or "").strip()[:200], (last_name or "").strip()[:200]
    if not first_names:
        raise AgentError("Saisissez les prénoms de l'agent.", code="no_first_names", field="first_names")
    if not last_name:
        raise AgentError("Saisissez le nom de l'agent.", code="no_last_name", field="last_name")
    duplicate = AgentError("Un agent a déjà cette adresse électronique.", code="duplicate_email", field="email")
    if Agent.objects.filter(email=email).exists():
        raise duplicate
    try:
        with transaction.atomic():
            agent = Agent.objects.create(
                caf=caf,
                email=email,
                first_names=first_names,
                last_name=last_name,
                roles=roles,
                created_by=actor.agent,
            )
            code = _activation_issue(agent)
            journal_record(
                action=JournalAction.AGENT_CREATED,
                actor=actor,
                subject_person=None,
                detail={"agent": agent.pk, "caf": caf.code, "roles": roles},
            )
    except IntegrityError:  # the same address created meanwhile
        raise duplicate from None
    return agent, code


@dataclass(frozen=True)
class ActivationTicket:
    """An activation under way, kept by the channel between its steps (the web: server-side
    session): the agent, and a stamp of the activation code that the steps check, so that a new
    code, a finished activation or a deactivation ends it."""

    agent_id: int
    stamp: str


def _stamp(agent: Agent) -> str:
    return totp.keyed_digest("agent-activation-flow", agent.activation_digest)[:32]


def _activation_live(agent: Agent | None) -> bool:
    return bool(agent is not None and agent.is_active and agent.activation_digest and agent.activation_expires_at)


def agent_activation_start(*, actor: Actor, email: str, code: str) -> ActivationTicket:
    """Check an activation code: constant time, the same work for an unknown email, throttled per
    email and per address like the usagers' sign-in. Raises ``Throttled`` or ``ActivationRefused``."""
    email = normalise_email(email)
    scopes = _scopes("agent-activation", email, actor)
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.AGENT_ACTIVATION_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        raise Throttled(wait, message=f"Trop de tentatives d'activation. Réessayez dans {wait_text(wait)}.")
    agent = Agent.objects.filter(email=email).first()
    live = _activation_live(agent)
    expected = agent.activation_digest if live else _NO_DIGEST
    matches = hmac.compare_digest(_activation_digest(agent.pk if agent else 0, code), expected) and live
    expired = matches and agent.activation_expires_at <= timezone.now()
    if not matches or expired:
        throttling.scopes_failed(scopes)
        journal_record(
            action=JournalAction.AGENT_ACTIVATION_FAILURE,
            actor=actor,
            detail={"agent": agent.pk, "reason": "expired" if expired else "wrong_code"} if agent else {},
        )
        raise ActivationRefused(MESSAGE_ACTIVATION_EXPIRED if expired else None, field=None)
    throttling.scopes_cleared(scopes[:1])
    journal_record(action=JournalAction.AGENT_ACTIVATION_STARTED, actor=_as_agent(actor, agent))
    return ActivationTicket(agent_id=agent.pk, stamp=_stamp(agent))


def _ticket_agent(ticket: ActivationTicket, *, lock: bool = False) -> Agent:
    """The agent of a live activation (under a row lock when ``lock``), else ActivationRefused."""
    agents = Agent.objects.select_related("caf").filter(pk=ticket.agent_id)
    if lock:
        agents = agents.select_for_update()
    agent = agents.first()
    if (
        not _activation_live(agent)
        or agent.activation_expires_at <= timezone.now()
        or not hmac.compare_digest(_stamp(agent), ticket.stamp)
    ):
        raise ActivationRefused(MESSAGE_ACTIVATION_OVER, code="activation_over")
    return agent


def activation_agent(*, ticket: ActivationTicket) -> Agent:
    """The agent of a live activation (for the pages' greeting); ActivationRefused otherwise."""
    return _ticket_agent(ticket)


def agent_activation_password_set(*, actor: Actor, ticket: ActivationTicket, password: str) -> AgentTOTPDevice:
    """The agent's password (the usagers' policy, their names not allowed in it), then a new
    authenticator device to enrol, unconfirmed. Raises ``PasswordRefused`` (code "weak", every
    reason) or ``ActivationRefused``."""
    with transaction.atomic():
        agent = _ticket_agent(ticket, lock=True)
        problems = password_problems(password, first_names=agent.first_names, birth_name=agent.last_name)
        if problems:
            raise PasswordRefused([p.message for p in problems], code="weak", field="password")
        agent.password = make_password(password)
        agent.password_changed_at = timezone.now()
        agent.save(update_fields=["password", "password_changed_at"])
        device = totp.device_new(agent)
        journal_record(action=JournalAction.AGENT_PASSWORD_SET, actor=_as_agent(actor, agent), subject_person=None)
    return device


def activation_device(*, ticket: ActivationTicket) -> AgentTOTPDevice | None:
    """The device being enrolled in a live activation (None before the password is chosen)."""
    agent = _ticket_agent(ticket)
    return AgentTOTPDevice.objects.select_related("agent").filter(agent=agent, confirmed_at__isnull=True).first()


def agent_activation_complete(*, actor: Actor, ticket: ActivationTicket, code: str) -> list[str]:
    """Confirm the enrolled device with a first code; the activation code dies and ten recovery
    codes are made, returned for display once. Raises ``CodeRefused``, ``Throttled`` or
    ``ActivationRefused``."""
    refused = None
    with transaction.atomic():
        agent = _ticket_agent(ticket, lock=True)
        device = AgentTOTPDevice.objects.select_for_update().filter(agent=agent, confirmed_at__isnull=True).first()
        if device is None:
            raise ActivationRefused(MESSAGE_ACTIVATION_OVER, code="activation_over")
        wait = totp.wait_seconds(device)
        if wait:
            refused = Throttled(wait, message=_code_wait_message(wait), field="code")
        elif totp.totp_matches(device, code):
            device.confirmed_at = timezone.now()
            device.save(update_fields=["confirmed_at"])
            agent.activation_digest = ""
            agent.activation_expires_at = None
            agent.save(update_fields=["activation_digest", "activation_expires_at"])
            codes = totp.recovery_codes_new(agent)
            journal_record(action=JournalAction.AGENT_ACTIVATED, actor=_as_agent(actor, agent), subject_person=None)
            return codes
        else:
            refused = CodeRefused()
    if isinstance(refused, CodeRefused):
        _count_code_failure(device.pk)
    journal_record(
        action=JournalAction.AGENT_SECOND_FACTOR_FAILURE,
        actor=_as_agent(actor, agent),
        subject_person=None,
        detail={"method": "enrolment", "reason": refused.code},
    )
    raise refused


# Sign-in -------------------------------------------------------------------------------------


def agent_signin_password(*, actor: Actor, email: str, password: str) -> tuple[AgentSession, str]:
    """The first step of signing in: a new session waiting for its second factor, and its token
    for the cookie (given here only). Raises ``Throttled``, ``AgentSigninRefused`` or, for the
    right password of an agent whose activation is not done, ``SecondFactorMissing``."""
    email = normalise_email(email)
    scopes = _scopes("agent-signin", email, actor)
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.AGENT_SIGNIN_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        raise Throttled(wait, message=_signin_wait_message(wait))
    agent = Agent.objects.select_related("caf").filter(email=email).first()
    if not _password_ok(agent, password):
        throttling.scopes_failed(scopes)
        journal_record(
            action=JournalAction.AGENT_SIGNIN_FAILURE, actor=actor, detail={"agent": agent.pk} if agent else {}
        )
        raise AgentSigninRefused()
    throttling.scopes_cleared(scopes[:1])
    if _confirmed_device(agent.pk) is None:
        journal_record(
            action=JournalAction.AGENT_SIGNIN_FAILURE,
            actor=_as_agent(actor, agent),
            subject_person=None,
            detail={"reason": "no_second_factor"},
        )
        raise SecondFactorMissing()
    with transaction.atomic():
        session, token = agent_session_open(agent=agent, client_address=actor.client_address)
        journal_record(
            action=JournalAction.AGENT_SIGNIN_PASSWORD,
            actor=agent_actor(session, channel=actor.channel, client_address=actor.client_address),
            subject_person=None,
        )
    return session, token


def agent_second_factor_verify(*, actor: Actor, session: AgentSession, code: str) -> str:
    """The TOTP code of the session's agent: within the device's tolerance, never twice, with
    django-otp's growing waits after wrong codes. On success the session is complete, under a
    new token, returned for the cookie. Raises ``Throttled``, ``CodeRefused`` or
    ``SecondFactorMissing``."""
    refused: DomainError
    with transaction.atomic():
        device = _confirmed_device(session.agent_id, lock=True)
        if device is None:
            raise SecondFactorMissing()
        wait = totp.wait_seconds(device)
        if wait:
            refused = Throttled(wait, message=_code_wait_message(wait), field="code")
        elif totp.totp_matches(device, code):
            token = agent_session_second_factor_done(session=session)
            journal_record(
                action=JournalAction.AGENT_SECOND_FACTOR_SUCCESS,
                actor=actor,
                subject_person=None,
                detail={"method": "totp"},
            )
            return token
        else:
            refused = CodeRefused()
    if isinstance(refused, CodeRefused):
        _count_code_failure(device.pk)
    journal_record(
        action=JournalAction.AGENT_SECOND_FACTOR_FAILURE,
        actor=actor,
        subject_person=None,
        detail={"method": "totp", "reason": refused.code},
    )
    raise refused


def agent_recovery_code_use(*, actor: Actor, session: AgentSession, code: str) -> tuple[int, str]:
    """A recovery code instead of the TOTP code: single use, counted on the device's waits like
    a wrong TOTP code. Returns how many unused codes remain and the session's new token (as
    ``agent_second_factor_verify``). Raises ``Throttled``, ``CodeRefused`` or
    ``SecondFactorMissing``."""
    refused: DomainError
    with transaction.atomic():
        device = _confirmed_device(session.agent_id, lock=True)
        if device is None:
            raise SecondFactorMissing()
        wait = totp.wait_seconds(device)
        if wait:
            refused = Throttled(wait, message=_code_wait_message(wait), field="code")
        else:
            remaining = totp.recovery_code_take(session.agent, code)
            if remaining is not None:
                device.throttle_reset(commit=False)
                device.save(update_fields=["throttling_failure_timestamp", "throttling_failure_count"])
                token = agent_session_second_factor_done(session=session)
                journal_record(
                    action=JournalAction.AGENT_RECOVERY_CODE_USED,
                    actor=actor,
                    subject_person=None,
                    detail={"remaining": remaining},
                )
                return remaining, token
            refused = CodeRefused("Code de secours incorrect ou déjà utilisé.")
    if isinstance(refused, CodeRefused):
        _count_code_failure(device.pk)
    journal_record(
        action=JournalAction.AGENT_SECOND_FACTOR_FAILURE,
        actor=actor,
        subject_person=None,
        detail={"method": "recovery_code", "reason": refused.code},
    )
    raise refused


def agent_recovery_codes_regenerate(*, actor: Actor, password: str) -> list[str]:
    """Ten new recovery codes for the signed-in agent (the earlier ones die), after the password
    typed again (throttled per agent). Returned for display once. Raises ``Throttled``,
    ``WrongPassword`` or ``SecondFactorMissing``."""
    agent = actor.agent
    if agent is None:
        raise NotAllowed()
    _reauthenticate(actor, agent, password)
    with transaction.atomic():
        if _confirmed_device(agent.pk, lock=True) is None:
            raise SecondFactorMissing()
        codes = totp.recovery_codes_new(agent)
        journal_record(action=JournalAction.AGENT_RECOVERY_CODES_REGENERATED, actor=actor, subject_person=None)
    return codes


def agent_password_change(
    *, actor: Actor, session: AgentSession, current_password: str, new_password: str
) -> tuple[int, str]:
    """The signed-in agent changes their password: the current one typed again (throttled per
    agent as every re-typing), the new one under the usagers' policy as at the activation (the
    agent's names not allowed in it). Every other session of the agent ends; ``session``, the
    one acting, stays open under a new token. Returns how many ended and that token. Raises
    ``Throttled`` or ``WrongPassword`` (field "current_password"), ``PasswordRefused`` ("weak",
    "same"); nothing changes then."""
    agent = actor.agent
    if agent is None or session.agent_id != agent.pk:
        raise NotAllowed()
    _reauthenticate(actor, agent, current_password, field="current_password", message=MESSAGE_WRONG_CURRENT)
    problems = password_problems(new_password, first_names=agent.first_names, birth_name=agent.last_name)
    if problems:
        raise PasswordRefused([p.message for p in problems], code="weak", field="password")
    if new_password == current_password:
        raise PasswordRefused([MESSAGE_UNCHANGED], code="same", field="password")
    with transaction.atomic():
        locked = Agent.objects.select_for_update().filter(pk=agent.pk, is_active=True).first()
        if locked is None:  # deactivated meanwhile
            raise NotAllowed()
        locked.password = make_password(new_password)
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["password", "password_changed_at"])
        # Whoever else holds a session of the agent (a stolen cookie, a forgotten browser) is out.
        ended = agent_sessions_end_all(agent=locked, reason="password_changed", actor=actor, except_session=session)
        # And the one kept: its old token, if it was copied, goes with the old password.
        token = agent_session_token_renew(session=session)
        journal_record(
            action=JournalAction.AGENT_PASSWORD_CHANGED,
            actor=actor,
            subject_person=None,
            detail={"agent": locked.pk, "sessions_ended": ended},
        )
    return ended, token


# Management by an administrator ---------------------------------------------------------------


def _managed(actor: Actor, agent_id: int) -> Agent:
    """``agent_id`` under a row lock, if the actor may change them (an administrator:
    moncompte.access.agents; a command: any agent); else NotAllowed."""
    agent = Agent.objects.select_for_update().filter(pk=agent_id).first()
    if agent is None:
        raise NotAllowed()
    if actor.agent is None:
        # The command line is the way out when no administrator may act (a Caf's only
        # administrator, a national role): it runs on the production host, not in a browser.
        if actor.channel != Channel.SYSTEM:
            raise NotAllowed()
        return agent
    if not agent_manageable(actor.agent, agent):
        raise NotAllowed()
    return agent


def agent_deactivate(*, actor: Actor, agent: Agent) -> Agent:
    """The agent may no longer sign in; every session of theirs ends now."""
    with transaction.atomic():
        agent = _managed(actor, agent.pk)
        if not agent.is_active:
            raise AgentError("Cet agent est déjà désactivé.", code="already_inactive")
        agent.is_active = False
        agent.deactivated_at = timezone.now()
        agent.save(update_fields=["is_active", "deactivated_at"])
        journal_record(
            action=JournalAction.AGENT_DEACTIVATED, actor=actor, subject_person=None, detail={"agent": agent.pk}
        )
        agent_sessions_end_all(agent=agent, reason="agent_deactivated", actor=actor)
    return agent


def agent_reactivate(*, actor: Actor, agent: Agent) -> str:
    """A deactivated agent may sign in again, through a new activation only: their password,
    authenticator app and recovery codes are deleted, and a new activation code (returned, shown
    once) lets them choose a password and enrol again. Their roles stay as they were."""
    with transaction.atomic():
        agent = _managed(actor, agent.pk)
        if agent.is_active:
            raise AgentError("Cet agent est déjà actif.", code="already_active")
        agent.is_active = True
        agent.deactivated_at = None
        agent.password = ""
        agent.password_changed_at = None
        agent.save(update_fields=["is_active", "deactivated_at", "password", "password_changed_at"])
        # A session left open by a deactivation made outside the console (a data fix) would
        # live again with the agent: none survives.
        return _enrolment_restarted(actor, agent, JournalAction.AGENT_REACTIVATED, reason="agent_reactivated")


def agent_roles_change(*, actor: Actor, agent: Agent, roles: list[str]) -> Agent:
    """New roles for the agent (those the administrator may give), effective at their next page."""
    roles = _valid_roles(roles)
    with transaction.atomic():
        agent = _managed(actor, agent.pk)
        _check_grantable(actor, roles)
        before = list(agent.roles)
        if before == roles:
            return agent
        agent.roles = roles
        agent.save(update_fields=["roles"])
        journal_record(
            action=JournalAction.AGENT_ROLES_CHANGED,
            actor=actor,
            subject_person=None,
            detail={"agent": agent.pk, "before": before, "after": roles},
        )
    return agent


def agent_second_factor_reset(*, actor: Actor, agent: Agent) -> str:
    """A lost phone: the device and the recovery codes are deleted, every session ends, and a new
    activation code (returned, shown once) lets the agent enrol again."""
    with transaction.atomic():
        agent = _managed(actor, agent.pk)
        if not agent.is_active:
            raise AgentError("Cet agent est désactivé.", code="inactive")
        return _enrolment_restarted(actor, agent, JournalAction.AGENT_SECOND_FACTOR_RESET, reason="second_factor_reset")


def _enrolment_restarted(actor: Actor, agent: Agent, action: JournalAction, *, reason: str) -> str:
    """The agent's authenticator app and recovery codes deleted, a new activation code issued
    (returned, shown once), journaled as ``action``, every session ended (caller's transaction)."""
    AgentTOTPDevice.objects.filter(agent=agent).delete()
    agent.recovery_codes.all().delete()
    code = _activation_issue(agent)
    journal_record(action=action, actor=actor, subject_person=None, detail={"agent": agent.pk})
    agent_sessions_end_all(agent=agent, reason=reason, actor=actor)
    return code


# Reads for the management pages -------------------------------------------------------------


def agents_managed_by(*, actor: Actor) -> QuerySet[Agent]:
    """The agents of the Caf(s) the acting administrator manages, themselves included."""
    if actor.agent is None or not agent_may(actor.agent, AgentPermission.MANAGE_AGENTS):
        raise NotAllowed()
    condition = agent_caf_condition(actor.agent, AgentPermission.MANAGE_AGENTS)
    return (
        Agent.objects.filter(condition).select_related("caf", "totp_device").order_by("last_name", "first_names", "id")
    )


def agent_for_management(*, actor: Actor, agent_id: int) -> Agent:
    """One agent of those ``agents_managed_by`` lists; NotAllowed (404) for any other."""
    agent = agents_managed_by(actor=actor).filter(pk=agent_id).first()
    if agent is None:
        raise NotAllowed()
    return agent


def agent_status(agent: Agent) -> str:
    """How the agent's account stands, in French, for the administrators' pages."""
    if not agent.is_active:
        return "Désactivé"
    try:
        device = agent.totp_device
    except AgentTOTPDevice.DoesNotExist:
        device = None
    if device is not None and device.confirmed_at is not None:
        return "Actif"
    if agent.activation_digest and agent.activation_expires_at and agent.activation_expires_at > timezone.now():
        return "Activation en attente"
    return "Code d'activation expiré"
