"""Invitations: the responsible person (or the spouse with delegation) invites a member over 15
to create their own account (PRODUCT.md section 2, third way; docs/access.md INVITE_MEMBER).

The message sent by email or SMS carries an **invitation code**: 16 random characters of
Crockford's base32 (80 bits), shown ``XXXX-XXXX-XXXX-XXXX``; only its HMAC is stored. The code
never travels in a URL's path or query string, so that no access log, proxy or browser history
keeps it: the message's link puts it in the fragment (``https://…/invitation/#XXXX-…``), which
browsers never send, and the invitation page's script copies it into the form; without
JavaScript the person types it from the message (any case, spaces or dashes, I, L and O read as
1, 1 and 0). It is posted with the identity proof. Wrong codes are counted per client address
(growing waits, as for the other codes) and journaled.

An invitation expires (MONCOMPTE_INVITATION_DAYS), serves once, can be cancelled, and a new one
replaces the open one of the same member. Whoever has the code proves they are the member
(NIR and birth date); MONCOMPTE_INVITATION_MAX_ATTEMPTS wrong proofs cancel the invitation. The
account is created under a lock on the invitation that re-checks everything: still open, the
member still on the file, still without an account. The contact the invitation was sent to is
not taken as validated: the member validates one of their own afterwards.
"""

import datetime
import hashlib
import hmac
import secrets
from typing import NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from moncompte.access.policy import Action, allowed_on_whole_file, standing_of
from moncompte.accounts import throttling
from moncompte.accounts.models import Account
from moncompte.accounts.services import AccountNotAllowed, account_allowed, account_create
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError
from moncompte.core.waits import wait_text
from moncompte.households.models import Dossier, Invitation, Member
from moncompte.identity.identifiers import Identifier
from moncompte.identity.models import Person
from moncompte.notifications.services import message_channel_for, message_send
from moncompte.verification.contacts import normalize_email, parse_mobile

# A responsible person cannot flood someone's mailbox or phone through invitations.
MAX_SENDS_PER_MEMBER_PER_DAY = 5

NOT_FOUND = "Cette invitation n'existe pas ou n'est plus modifiable."
NOT_INVITABLE = "Cette personne ne peut pas être invitée à créer un compte."
TOO_MANY_SENDS = (
    "Trop d'invitations ont été envoyées à cette personne aujourd'hui. Vous pourrez en envoyer une nouvelle demain."
)
INVALID_LINK = (
    "Ce code d'invitation n'est pas ou plus valable : vérifiez votre saisie. L'invitation a peut-être "
    "déjà servi ou été annulée ; demandez-en une nouvelle à la personne qui vous l'a envoyée."
)
EXPIRED = "Cette invitation a expiré. Demandez-en une nouvelle à la personne qui vous l'a envoyée."
MALFORMED_CODE = (
    "Le code d'invitation comporte 16 lettres et chiffres, sous la forme XXXX-XXXX-XXXX-XXXX : "
    "recopiez-le depuis le message d'invitation."
)
THROTTLED = "Trop de codes d'invitation incorrects depuis votre connexion. Réessayez dans {wait}."
WRONG_IDENTITY = (
    "Le numéro de sécurité sociale ou la date de naissance ne correspond pas à la personne invitée. "
    "Vérifiez votre saisie."
)
TOO_MANY_ATTEMPTS = (
    "Trop d'erreurs de saisie : pour votre sécurité, cette invitation est annulée. "
    "Demandez une nouvelle invitation à la personne qui vous l'a envoyée."
)
HAS_ACCOUNT = "Vous avez déjà un compte : connectez-vous avec votre numéro de sécurité sociale et votre mot de passe."
# Whoever holds a real invitation code is told plainly that it no longer serves: the account exists.
ACCOUNT_EXISTS = (
    "Le compte de la personne invitée existe déjà : cette invitation ne sert plus. Si c'est votre "
    "compte, connectez-vous avec votre numéro de sécurité sociale et votre mot de passe (ou utilisez "
    "« Mot de passe oublié »)."
)


# The path of the page of the link in the message, fixed: the domain does not know the web's URL
# names (moncompte/web/invitations/urls.py serves it). The code goes in the fragment, after "#".
INVITATION_PATH = "/invitation/"

# Crockford's base32: no I, L, O or U, so that a code read aloud or copied by hand survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_CODE_SEPARATORS = " \t-._\u00a0\u202f"


class InvitationError(DomainError):
    """A refusal; ``message`` is a French sentence for the person, ``field`` the form field concerned.

    ``code``: not_allowed, not_invitable, too_many_sends, invalid_destination, invalid_channel,
    not_found, malformed, throttled (``wait_seconds``; status 429), invalid, expired,
    wrong_identity, too_many_attempts, has_account, account_exists (the code is real but the
    member's account exists by now), too_young.
    """

    def __init__(self, message: str, *, code: str, field: str | None = None, wait_seconds: int = 0):
        super().__init__(message, code=code, field=field)
        self.wait_seconds = wait_seconds
        if code == "throttled":
            self.status = 429


class SentInvitation(NamedTuple):
    invitation: Invitation
    code: str  # as shown in the message (XXXX-XXXX-XXXX-XXXX); only in the message, never stored
    link: str


def token_digest(token: str) -> str:
    """The HMAC stored for an invitation code (its canonical form, ``invitation_code_canonical``)."""
    return hmac.new(settings.MONCOMPTE_INVITATION_KEY.encode(), token.encode(), hashlib.sha256).hexdigest()


def invitation_code_new() -> str:
    """A new invitation code, canonical: 16 characters of CODE_ALPHABET from ``secrets``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def invitation_code_shown(canonical: str) -> str:
    """The code as the message shows it: XXXX-XXXX-XXXX-XXXX."""
    return "-".join(canonical[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def invitation_code_canonical(typed: str) -> str | None:
    """The canonical code of what a person typed or pasted, or None if it cannot be one.

    Any case; spaces, dashes, dots between the groups; I and L read as 1, O as 0; the whole link
    pasted (what follows its "#").
    """
    text = (typed or "")[:200]
    if "#" in text:
        text = text.rsplit("#", 1)[1]
    text = "".join(char for char in text if char not in _CODE_SEPARATORS).upper().translate(_READ_AS)
    if len(text) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in text):
        return None
    return text


def _may_invite(person: Person | None, dossier_id: int) -> bool:
    """The policy's INVITE_MEMBER on the whole file (R and S+), asked on the person's row."""
    if person is None:
        return False
    member = Member.objects.filter(person=person, dossier_id=dossier_id).first()
    return allowed_on_whole_file(standing_of(member), Action.INVITE_MEMBER)


def _invitable(member: Member, *, viewer: Person | None, today: datetime.date) -> bool:
    return (
        (viewer is None or member.person_id != viewer.pk)
        and not Account.objects.filter(person_id=member.person_id).exists()
        and account_allowed(member.person, today)
    )


def invitable_members(*, actor: Actor, dossier: Dossier) -> list[Member]:
    """Current members of the file, other than the actor, without an account and old enough
    (MONCOMPTE_ACCOUNT_MIN_AGE, from their birthday on); none unless the actor may invite."""
    person = actor.subject
    if not _may_invite(person, dossier.pk):
        return []
    today = datetime.date.today()
    members = (
        Member.objects.current(today)
        .filter(dossier=dossier, person__account__isnull=True)
        .exclude(person=person)
        .select_related("person")
        .order_by("person__birth_date", "id")
    )
    return [m for m in members if account_allowed(m.person, today)]


def live_invitations(*, actor: Actor, dossier: Dossier) -> list[Invitation]:
    """The invitations of the file whose link still works (member still without an account);
    none unless the actor may invite."""
    if not _may_invite(actor.subject, dossier.pk):
        return []
    return list(Invitation.objects.live().filter(dossier=dossier).select_related("member__person"))


def _has_account(person: Person) -> bool:
    try:
        return person.account is not None
    except Account.DoesNotExist:
        return False


def invitation_account_exists(invitation: Invitation) -> bool:
    """Whether the invited member has an account by now, however it was created: the state is
    computed on every read, not only taken from what was recorded when it happened."""
    return _has_account(invitation.member.person)


def accounts_created_after_invitation(*, actor: Actor, dossier: Dossier) -> list[Invitation]:
    """For each current member of the file who has an account and was invited in the last
    MONCOMPTE_INVITATION_DAYS days, their latest invitation: shown "Compte créé" (whichever way
    the account was created). None unless the actor may invite."""
    if not _may_invite(actor.subject, dossier.pk):
        return []
    since = timezone.now() - datetime.timedelta(days=settings.MONCOMPTE_INVITATION_DAYS)
    invitations = (
        Invitation.objects.filter(
            member__in=Member.objects.current(),
            dossier=dossier,
            created_at__gt=since,
            member__person__account__isnull=False,
        )
        .select_related("member__person__account")
        .order_by("member_id", "-created_at", "-id")
    )
    latest: dict[int, Invitation] = {}
    for invitation in invitations:
        latest.setdefault(invitation.member_id, invitation)
    return sorted(latest.values(), key=lambda i: i.member.person.account.created_at, reverse=True)


def invitations_close_for(*, actor: Actor, person: Person) -> int:
    """Close the open invitations of ``person`` (on every file) because their account now
    exists, and journal each one. Called in the transaction that creates or attaches the account
    (first connection, invitation, identity check); the pages compute the state on read as well
    (``Invitation.objects.live``), so nothing is ever shown "en cours" meanwhile."""
    now = timezone.now()
    closed = 0
    invitations = (
        Invitation.objects.select_for_update(of=("self",))
        .open()
        .filter(member__person=person)
        .select_related("dossier")
        .order_by("pk")
    )
    for invitation in invitations:
        invitation.cancelled_at = now
        invitation.cancel_reason = Invitation.CancelReason.ACCOUNT_EXISTS
        invitation.save(update_fields=["cancelled_at", "cancel_reason"])
        journal_record(
            action=JournalAction.INVITATION_CLOSED_ACCOUNT_EXISTS,
            actor=actor,
            subject_person=person,
            dossier=invitation.dossier,
            detail={"invitation": invitation.pk},
        )
        closed += 1
    return closed


def _normalize(channel: str, destination: str) -> str:
    try:
        if channel == ContactChannel.EMAIL:
            return normalize_email(destination)
        if channel == ContactChannel.PHONE:
            return parse_mobile(destination)
    except ValueError as error:
        raise InvitationError(str(error), code="invalid_destination", field=channel) from None
    raise InvitationError("Choisissez comment envoyer l'invitation.", code="invalid_channel", field="channel")


def invitation_link(code: str) -> str:
    """The link of the message: the invitation page of the public address of the service
    (MONCOMPTE_PUBLIC_URL), the code in the fragment, which the browser never sends."""
    return settings.MONCOMPTE_PUBLIC_URL.rstrip("/") + INVITATION_PATH + "#" + code


def invitation_send(*, actor: Actor, member: Member, channel: str, destination: str) -> SentInvitation:
    """Invite ``member`` by email or SMS; the open invitation of that member, if any, is cancelled.

    The message is sent in the same transaction: no invitation without its message, and the
    other way round.
    """
    actor_person = actor.subject
    destination = _normalize(channel, destination)
    now = timezone.now()
    with transaction.atomic():
        # The member's row is locked: two sends for one member are serialized.
        member = Member.objects.select_for_update().select_related("person", "dossier").get(pk=member.pk)
        if not _may_invite(actor_person, member.dossier_id):
            raise InvitationError(NOT_INVITABLE, code="not_allowed")
        if not Member.objects.current().filter(pk=member.pk).exists() or not _invitable(
            member, viewer=actor_person, today=datetime.date.today()
        ):
            raise InvitationError(NOT_INVITABLE, code="not_invitable")
        recent = Invitation.objects.filter(member=member, created_at__gt=now - datetime.timedelta(days=1)).count()
        if recent >= MAX_SENDS_PER_MEMBER_PER_DAY:
            raise InvitationError(TOO_MANY_SENDS, code="too_many_sends")
        Invitation.objects.open().filter(member=member).update(
            cancelled_at=now, cancel_reason=Invitation.CancelReason.REPLACED
        )
        token = invitation_code_new()
        invitation = Invitation.objects.create(
            dossier=member.dossier,
            member=member,
            invited_by=actor_person,
            channel=channel,
            destination=destination,
            token_digest=token_digest(token),
            created_at=now,
            expires_at=now + datetime.timedelta(days=settings.MONCOMPTE_INVITATION_DAYS),
        )
        code = invitation_code_shown(token)
        link = invitation_link(code)
        message_send(
            channel=message_channel_for(channel),
            recipient=destination,
            template="invitation",
            context={
                "inviter": actor_person.display_name,
                "member_first_name": (member.person.first_names.split() or [""])[0],
                "link": link,
                "code": code,
                "expires_at": invitation.expires_at,
            },
            expires_at=invitation.expires_at,
        )
        journal_record(
            action=JournalAction.INVITATION_SENT,
            actor=actor,
            subject_person=member.person,
            dossier=member.dossier,
            detail={"invitation": invitation.pk, "channel": channel},
        )
    return SentInvitation(invitation=invitation, code=code, link=link)


def invitation_cancel(*, actor: Actor, invitation_id: int) -> Invitation:
    """Cancel an open invitation of a file on which the actor may invite; anything else is not found."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().open().filter(pk=invitation_id).first()
        if invitation is None or not _may_invite(actor.subject, invitation.dossier_id):
            raise InvitationError(NOT_FOUND, code="not_found")
        invitation.cancelled_at = timezone.now()
        invitation.cancel_reason = Invitation.CancelReason.BY_INVITER
        invitation.save(update_fields=["cancelled_at", "cancel_reason"])
        journal_record(
            action=JournalAction.INVITATION_CANCELLED,
            actor=actor,
            subject_person=invitation.member.person,
            dossier=invitation.dossier,
            detail={"invitation": invitation.pk},
        )
    return invitation


def _check_live(invitation: Invitation | None) -> Invitation:
    """The invitation if its link still works; else the French reason."""
    if invitation is None:
        raise InvitationError(INVALID_LINK, code="invalid")
    if Account.objects.filter(person_id=invitation.member.person_id).exists():
        # Used, or the account was created some other way (first connection, sign-up and
        # identity check): say so plainly rather than "not valid".
        raise InvitationError(ACCOUNT_EXISTS, code="account_exists")
    if invitation.accepted_at is not None or invitation.cancelled_at is not None:
        raise InvitationError(INVALID_LINK, code="invalid")
    if invitation.expires_at <= timezone.now():
        raise InvitationError(EXPIRED, code="expired")
    if not Member.objects.current().filter(pk=invitation.member_id).exists():
        raise InvitationError(INVALID_LINK, code="invalid")
    return invitation


def _code_scope(actor: Actor) -> list[throttling.ThrottleScope]:
    return [throttling.address_scope("invitation", actor.client_address or "")]


def invitation_open(*, actor: Actor, code: str) -> Invitation:
    """The live invitation of an invitation code, as typed (``invitation_code_canonical``).

    Unknown, used and cancelled codes get one message. A code that is no code at all (its shape)
    is refused without counting; an unknown one counts on the client address (growing waits
    past the free failures) and is journaled; a throttled client is refused before any look-up.
    Errors concern the form's ``code`` field.
    """
    scope = _code_scope(actor)
    wait = throttling.scopes_wait(scope)
    if wait:
        journal_record(action=JournalAction.INVITATION_CODE_THROTTLED, actor=actor, subject_person=None)
        raise InvitationError(THROTTLED.format(wait=wait_text(wait)), code="throttled", field="code", wait_seconds=wait)
    canonical = invitation_code_canonical(code)
    if canonical is None:
        raise InvitationError(MALFORMED_CODE, code="malformed", field="code")
    invitation = (
        Invitation.objects.select_related("member__person", "invited_by")
        .filter(token_digest=token_digest(canonical))
        .first()
    )
    if invitation is None:
        throttling.scopes_failed(scope)
        journal_record(action=JournalAction.INVITATION_CODE_FAILURE, actor=actor, subject_person=None)
        raise InvitationError(INVALID_LINK, code="invalid", field="code")
    try:
        _check_live(invitation)
    except InvitationError as error:
        error.field = "code"
        raise
    journal_record(
        action=JournalAction.INVITATION_OPENED,
        actor=actor,
        subject_person=invitation.member.person,
        dossier=invitation.dossier,
    )
    return invitation


def invitation_live(*, invitation_id: int) -> Invitation:
    """The invitation kept in a session by its id, if it is still live."""
    invitation = Invitation.objects.select_related("member__person").filter(pk=invitation_id).first()
    return _check_live(invitation)


def invitation_prove(
    *, actor: Actor, invitation: Invitation, identifier: Identifier, birth_date: datetime.date
) -> Person:
    """The person who has the code proves they are the member: their NIR and birth date.

    Wrong proofs are counted on the invitation (under its lock, so parallel tries cannot overrun
    the cap); at MONCOMPTE_INVITATION_MAX_ATTEMPTS the invitation is cancelled.
    """
    with transaction.atomic():
        locked = _check_live(
            Invitation.objects.select_for_update().select_related("member__person").filter(pk=invitation.pk).first()
        )
        person = locked.member.person
        matches = (
            Person.objects.with_identifier(identifier.value).filter(pk=person.pk).exists()
            and person.birth_date == birth_date
        )
        if not matches:
            locked.failed_attempts += 1
            fields = ["failed_attempts"]
            capped = locked.failed_attempts >= settings.MONCOMPTE_INVITATION_MAX_ATTEMPTS
            if capped:
                locked.cancelled_at = timezone.now()
                locked.cancel_reason = Invitation.CancelReason.ATTEMPTS
                fields += ["cancelled_at", "cancel_reason"]
            locked.save(update_fields=fields)
            journal_record(
                action=JournalAction.INVITATION_IDENTITY_FAILURE,
                actor=actor,
                subject_person=person,
                dossier=locked.dossier,
                detail={"invitation": locked.pk, "attempts": locked.failed_attempts, "cancelled": capped},
            )
    # Outside the block so that the counted failure is committed before answering.
    if not matches:
        if capped:
            raise InvitationError(TOO_MANY_ATTEMPTS, code="too_many_attempts")
        left = settings.MONCOMPTE_INVITATION_MAX_ATTEMPTS - locked.failed_attempts
        raise InvitationError(
            f"{WRONG_IDENTITY} Il vous reste {left} essai{'s' if left > 1 else ''}.", code="wrong_identity"
        )
    if Account.objects.filter(person=person).exists():
        raise InvitationError(HAS_ACCOUNT, code="has_account")
    journal_record(
        action=JournalAction.INVITATION_IDENTITY_PROVED, actor=actor, subject_person=person, dossier=locked.dossier
    )
    return person


def invitation_accept(*, actor: Actor, invitation: Invitation, password: str) -> Account:
    """Create the member's account and use up the invitation, all or nothing, re-checking under
    the invitation's lock that it is live, the member still on the file and without an account.

    ``actor``: the visitor who proved they are the member (not signed in yet)."""
    with transaction.atomic():
        locked = _check_live(
            Invitation.objects.select_for_update().select_related("member__person").filter(pk=invitation.pk).first()
        )
        person = locked.member.person
        if Account.objects.filter(person=person).exists():
            raise InvitationError(HAS_ACCOUNT, code="has_account")
        try:
            with transaction.atomic():
                account = account_create(actor=actor, person=person, password=password)
        except IntegrityError:
            # Account.person is unique: an account was created meanwhile through another path.
            raise InvitationError(HAS_ACCOUNT, code="has_account") from None
        except AccountNotAllowed as error:
            raise InvitationError(error.message, code="too_young") from None
        locked.accepted_at = timezone.now()
        locked.save(update_fields=["accepted_at"])
        # From now on the member acts with their own account.
        acting = actor.signed_in_as(account, session_key=actor.session_key)
        journal_record(
            action=JournalAction.INVITATION_ACCEPTED,
            actor=acting,
            subject_person=person,
            dossier=locked.dossier,
            detail={"invitation": locked.pk},
        )
        # An invitation of the same person on another file serves no more either.
        invitations_close_for(actor=acting, person=person)
    return account


__all__ = [
    "ACCOUNT_EXISTS",
    "InvitationError",
    "SentInvitation",
    "accounts_created_after_invitation",
    "invitation_account_exists",
    "invitations_close_for",
    "invitable_members",
    "invitation_accept",
    "invitation_code_canonical",
    "invitation_code_new",
    "invitation_code_shown",
    "invitation_cancel",
    "invitation_live",
    "invitation_open",
    "invitation_prove",
    "invitation_send",
    "live_invitations",
    "token_digest",
]
