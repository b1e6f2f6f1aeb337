"""Account creation by a new beneficiary (/creer-mon-compte/, docs/signup.md).

The person declares an identity (with a NIR, or saying they have none), validates a contact and
chooses a password; ``signup_complete`` then does the same thing, in one transaction, **whoever
the typed NIR belongs to**:

- a new person is recorded under a new **provisional identifier** (shown once, sent to the
  validated contact), with an identity check ``to_verify`` and the account; the account signs in
  and sees only its own page until an agent has checked the identity document it sends;
- the NIR typed, if any, is **not** the person's identifier: it is kept on the check as a claim,
  sealed like every identifier (moncompte.identity.protection), and binds nobody. The number is
  not even looked up during the sign-up: the page, the message to the validated contact, the
  status and the work done are the same for a number the Caf knows (with or without an account,
  of that identity or not) and for one it does not know, so a sign-up tells a stranger nothing
  (no probe), and a pending account never blocks the real holder (no squat: their first
  connection, invitation or own sign-up work as if nothing happened);
- afterwards, a task (``signup_claim_review``, enqueued with every claim) tells the holder of a
  claimed number who has an account, at **their own** validated contacts, that an account
  creation was asked with their number and that they already have an account (OWASP: the
  answer goes by message to the owner, never on the page nor to the asker);
- ``identity_check_accept`` (the agent's decision, issue 12) binds the claimed number to the
  person (``person_rekey``: the provisional identifier becomes a former one) when nobody holds
  it by then. When a file member without an account holds it (a 16- or 17-year-old who signed
  up alone, typically) and may claim an account alone (``CLAIM_ALONE``) and the declared
  identity is theirs, the account is **attached** to them (issue 9): the account's person
  becomes the holder, the provisional person is folded into them, their invitations close.
  Otherwise it refuses cleanly (``IdentityCheckError``, code ``taken``, ``not_alone`` or
  ``mismatch``) and journals the refusal. Several pending claims of one number: only the checks
  decide, the first accepted binds or attaches, the next ones are refused.

Without a NIR nothing is ever linked either, even when one known person has that identity: names
and a birth date are no proof. The possible duplicate is recorded on the check for the agent.
Every account creation counts against the client address (growing waits past
MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS a day): one address cannot flood the agents.
"""

from __future__ import annotations

import datetime
import enum
from dataclasses import asdict, dataclass, fields

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from moncompte.access.policy import may_claim_alone
from moncompte.accounts import throttling
from moncompte.accounts.models import Account, Contact
from moncompte.accounts.passwords import password_problems
from moncompte.accounts.services import account_allowed, account_create, contact_validated
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.core.waits import wait_text
from moncompte.households.invitations import invitations_close_for
from moncompte.identity.documents import DocumentError, document_store
from moncompte.identity.identifiers import Identifier, IdentifierKind, new_provisional_identifier
from moncompte.identity.matching import FRANCE, MatchOutcome, MatchResult, match_person, nir_identity_problems
from moncompte.identity.models import (
    FormerIdentifier,
    IdentifierType,
    IdentityCheck,
    IdentityCheckState,
    IdentityDocument,
    Person,
)
from moncompte.identity.normalise import birth_date_problem
from moncompte.identity.protection import protect_identifier
from moncompte.identity.services import RekeyError, person_create, person_rekey, person_retire_into
from moncompte.notifications.services import message_channel_for, message_send

__all__ = [
    "CHECK_DECIDED",
    "NUMBER_NOT_ALONE",
    "NUMBER_OTHER_IDENTITY",
    "NUMBER_TAKEN",
    "IdentityCheckError",
    "SignupError",
    "SignupIdentity",
    "SignupResult",
    "SignupState",
    "identity_check_accept",
    "identity_check_reject",
    "identity_check_reopen",
    "pending_identity_check",
    "rejected_identity_check",
    "signup_age_problem",
    "signup_claim_review",
    "signup_complete",
    "signup_document_send",
    "signup_identity_problems",
]

THROTTLED = "Trop de tentatives de création de compte depuis votre connexion. Réessayez dans {wait}."
DOCUMENTS_THROTTLED = (
    "Trop de fichiers n'ont pas pu être lus. Réessayez dans {wait}, avec une photo nette (JPEG ou PNG) ou "
    "un PDF de votre justificatif."
)
# Each refused upload may have cost the parser's CPU limit (MONCOMPTE_DOCUMENT_PARSER_CPU_SECONDS):
# a few are free per identity check and per address, then waits grow (1 s, 2 s, ... up to an hour).
DOCUMENT_FREE_REFUSALS = 5
DOCUMENT_MAX_WAIT_SECONDS = 3600
CHECK_DECIDED = "Cette vérification d'identité a déjà été traitée."
NUMBER_TAKEN = (
    "Ce numéro de sécurité sociale est déjà attribué à une autre personne : la vérification ne peut pas être "
    "acceptée avec ce numéro. Vérifiez le numéro, ou refusez la vérification en indiquant à la personne comment "
    "se connecter (son compte existant, la première connexion de l'allocataire ou l'invitation du responsable "
    "du dossier)."
)
# Draws of a provisional identifier before giving up (45 random bits: a collision is rare already).
PROVISIONAL_DRAWS = 8
# The message to the validated contact: the provisional identifier, and with a NIR typed, what
# happens to it (the same text whoever the number belongs to).
MESSAGE_WITHOUT_NIR = "provisional_identifier"
MESSAGE_WITH_NIR = "signup_claim_received"
MESSAGE_TO_HOLDER = "signup_claim_holder_notice"
MESSAGE_ACCEPTED = "identity_check_accepted"
MESSAGE_ATTACHED = "identity_check_attached"
NUMBER_NOT_ALONE = (
    "Ce numéro de sécurité sociale est celui d'un ou d'une responsable de dossier ou d'un conjoint : son compte "
    "se crée par la première connexion ou sur invitation, pas par une création de compte seule. Refusez la "
    "vérification en indiquant à la personne comment se connecter."
)
NUMBER_OTHER_IDENTITY = (
    "Ce numéro de sécurité sociale est celui d'une personne connue de la Caf dont l'identité (noms, date ou lieu "
    "de naissance, sexe) ne correspond pas à celle déclarée : la vérification ne peut pas être acceptée avec ce "
    "numéro. Vérifiez le numéro et l'identité, ou refusez la vérification."
)


class SignupState(enum.StrEnum):
    # Every account created here waits for its identity check (a NIR is bound only after it).
    TO_VERIFY = "to_verify"


class SignupError(DomainError):
    """The account cannot be created; ``messages`` are French sentences for the person
    (``message`` is the first one).

    ``code``: too_young, password, identity, throttled. None of them depends on who holds the
    typed number: nothing is looked up to decide them.
    """

    def __init__(self, messages: str | list[str], *, code: str, wait_seconds: int = 0):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(self.messages[0], code=code)
        self.wait_seconds = wait_seconds
        if code == "throttled":
            self.status = 429

    def as_dict(self) -> dict:
        return {**super().as_dict(), "messages": self.messages}


class IdentityCheckError(DomainError):
    """An identity check cannot be decided. ``code``: closed (already decided), reason (a
    refusal without its reason, status 400), taken (the
    claimed number is held by another person who has an account, or became so meanwhile),
    not_alone (held by a responsible person or a spouse), mismatch (held by a person of another
    identity)."""

    status = 409


@dataclass(frozen=True)
class SignupIdentity:
    """What the person declared about themselves (step 1)."""

    first_names: str
    birth_name: str
    birth_date: datetime.date
    sex: str
    usage_name: str = ""
    # The INSEE code of the birth commune when the person typed one, else "" (label says it).
    birth_place_code: str = ""
    birth_place_label: str = ""
    birth_country_code: str = FRANCE
    address_line1: str = ""
    address_line2: str = ""
    postal_code: str = ""
    city: str = ""

    def to_session(self) -> dict:
        data = asdict(self)
        data["birth_date"] = self.birth_date.isoformat()
        return data

    @classmethod
    def from_session(cls, data: dict) -> SignupIdentity:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["birth_date"] = datetime.date.fromisoformat(values["birth_date"])
        return cls(**values)

    def matching_fields(self) -> dict:
        return {
            "first_names": self.first_names,
            "birth_name": self.birth_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "birth_place_code": self.birth_place_code,
            "birth_country_code": self.birth_country_code,
        }


@dataclass(frozen=True)
class SignupResult:
    account: Account
    person: Person
    identity_check: IdentityCheck
    # Always given (shown once on screen, sent to the validated contact): the NIR typed, if any,
    # signs the person in only once the check has bound it.
    provisional_identifier: Identifier
    state: SignupState = SignupState.TO_VERIFY

    @property
    def claimed(self) -> bool:
        """Whether a NIR (or NNP) was typed: it waits on the check."""
        return bool(self.identity_check.claimed_identifier_type)


def signup_age_problem(birth_date: datetime.date, today: datetime.date | None = None) -> str | None:
    """The French refusal for a person too young to hold an account, None otherwise."""
    if account_allowed(Person(birth_date=birth_date), today=today):
        return None
    return (
        f"Un compte personnel peut être créé à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans. Les "
        "informations des enfants plus jeunes figurent dans le dossier de leurs parents."
    )


def signup_identity_problems(identity: SignupIdentity, identifier: Identifier | None) -> list[tuple[str, str]]:
    """(field, French message) for what makes the declaration impossible, before any look-up."""
    problems: list[tuple[str, str]] = []
    if identifier is not None and identifier.is_provisional:
        problems.append(
            (
                "identifier",
                "Un identifiant provisoire est donné avec un compte : si vous en avez un, connectez-vous avec lui.",
            )
        )
    elif identifier is not None:
        problems.extend(
            nir_identity_problems(
                identifier,
                birth_date=identity.birth_date,
                sex=identity.sex,
                birth_place_code=identity.birth_place_code,
                birth_country_code=identity.birth_country_code,
            )
        )
    bound = birth_date_problem(identity.birth_date)
    if bound:
        problems.append(("birth_date", bound))
    age = signup_age_problem(identity.birth_date)
    if age:
        problems.append(("birth_date", age))
    return problems


def pending_identity_check(person: Person) -> IdentityCheck | None:
    """The person's identity check waiting for an agent, if any."""
    return IdentityCheck.objects.pending().filter(person=person).order_by("-created_at").first()


def _scope(actor: Actor):
    return [throttling.address_scope("signup", actor.client_address or "")]


def _provisional_person(identity: SignupIdentity) -> tuple[Person, Identifier]:
    """A new person under a fresh provisional identifier, drawn again on a collision."""
    for _ in range(PROVISIONAL_DRAWS):
        identifier = new_provisional_identifier()
        if (
            Person.objects.with_identifier(identifier.value).exists()
            or FormerIdentifier.objects.with_identifier(identifier.value).exists()
        ):
            continue
        try:
            with transaction.atomic():
                person = _person_create(identity, identifier)
        except IntegrityError:  # drawn by a concurrent sign-up meanwhile
            continue
        return person, identifier
    raise RuntimeError("No free provisional identifier after several draws.")


def _person_create(identity: SignupIdentity, identifier: Identifier) -> Person:
    # person_create stores the names in their one written form (moncompte.identity.normalise).
    return person_create(
        identifier=identifier,
        first_names=identity.first_names,
        birth_name=identity.birth_name,
        usage_name=identity.usage_name,
        birth_date=identity.birth_date,
        sex=identity.sex,
        birth_place_code=identity.birth_place_code,
        birth_country_code=identity.birth_country_code or FRANCE,
    )


def _claim_fields(claimed: Identifier | None) -> dict:
    """The sealed claim of a typed NIR or NNP, for the check (nothing without one)."""
    if claimed is None:
        return {}
    protected = protect_identifier(claimed.value)
    return {
        "claimed_identifier_type": IdentifierType.NIR if claimed.kind is IdentifierKind.NIR else IdentifierType.NNP,
        "claimed_identifier_digest": protected.digest,
        "claimed_identifier_encrypted": protected.token,
    }


def _identity_check_open(
    person: Person, identity: SignupIdentity, duplicate: MatchResult, claimed: Identifier | None
) -> IdentityCheck:
    # Possible duplicates (known persons of that identity, matched without NIR) are recorded for
    # the agent, never linked.
    candidate = duplicate.person if duplicate.outcome is MatchOutcome.ONE else None
    return IdentityCheck.objects.create(
        person=person,
        match_outcome=duplicate.outcome.value,
        candidate_person=candidate,
        birth_place_label=identity.birth_place_label[:200],
        address_line1=identity.address_line1[:200],
        address_line2=identity.address_line2[:200],
        postal_code=identity.postal_code[:5],
        city=identity.city[:200],
        **_claim_fields(claimed),
    )


def signup_complete(
    *,
    actor: Actor,
    identity: SignupIdentity,
    identifier: Identifier | None,
    password: str,
    contact_channel: ContactChannel | str,
    contact_destination: str,
) -> SignupResult:
    """Create the account (see the module docstring). Raises SignupError.

    ``identifier``: the NIR or NNP typed, kept as a claim on the identity check (None: "je n'ai
    pas de numéro"). ``contact_channel`` and ``contact_destination`` (normalized) must have been
    validated with a one-time code by the caller (purpose SIGNUP). ``actor``: the visitor
    creating the account (its client address is throttled).
    """
    contact_channel = ContactChannel(contact_channel)  # ValueError for anything else
    wait = throttling.scopes_wait(_scope(actor))
    if wait:
        journal_record(action=JournalAction.SIGNUP_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        raise SignupError(THROTTLED.format(wait=wait_text(wait)), code="throttled", wait_seconds=wait)
    too_young = signup_age_problem(identity.birth_date)
    if too_young:
        raise SignupError(too_young, code="too_young")
    problems = signup_identity_problems(identity, identifier)
    if problems:
        raise SignupError([message for _, message in problems], code="identity")
    issues = password_problems(
        password,
        identifier=identifier,
        first_names=identity.first_names,
        birth_name=identity.birth_name,
        usage_name=identity.usage_name,
        birth_date=identity.birth_date,
    )
    if issues:
        raise SignupError([issue.message for issue in issues], code="password")

    with transaction.atomic():
        result = _complete(
            identity=identity,
            claimed=identifier,
            password=password,
            contact_channel=contact_channel,
            contact_destination=contact_destination,
            actor=actor,
        )
    # Every creation is counted against the client address: one address cannot open checks
    # without limit (free ones first, then growing waits).
    throttling.scopes_failed(_scope(actor))
    return result


def _complete(
    *,
    identity: SignupIdentity,
    claimed: Identifier | None,
    password: str,
    contact_channel: ContactChannel,
    contact_destination: str,
    actor: Actor,
) -> SignupResult:
    # The same steps whoever holds the claimed number: it is not looked up here (no probe, no
    # early return, and nothing a pending account could hold against the real holder).
    duplicate = match_person(**identity.matching_fields())
    person, provisional = _provisional_person(identity)
    check = _identity_check_open(person, identity, duplicate, claimed)
    account = account_create(person=person, password=password, actor=actor)
    # From here on the visitor acts as the new account's person.
    acting = actor.signed_in_as(account, session_key=actor.session_key)
    contact_validated(account=account, kind=contact_channel, value=contact_destination, actor=acting)
    journal_record(
        action=JournalAction.SIGNUP_ACCOUNT_CREATED,
        actor=acting,
        subject_person=person,
        detail={
            "state": SignupState.TO_VERIFY.value,
            "identifier_type": person.identifier_type,
            "claimed_identifier_type": check.claimed_identifier_type,
        },
    )
    message_send(
        channel=message_channel_for(contact_channel),
        recipient=contact_destination,
        template=MESSAGE_WITH_NIR if claimed is not None else MESSAGE_WITHOUT_NIR,
        context={"identifier": provisional.display()},
        account=account,
    )
    if claimed is not None:
        # Enqueued in this transaction: run after the commit, outside the request's answer.
        signup_claim_review.enqueue(check.pk)
    return SignupResult(account=account, person=person, identity_check=check, provisional_identifier=provisional)


@task()
def signup_claim_review(check_id: int) -> int:
    """After a sign-up with a NIR: tell the number's holder, if they have an account, at their own
    validated contacts. Returns the number of messages sent.

    The asker is never told (they get the same answer whoever holds the number); the holder
    learns that someone asked, and that they need no new account (OWASP's account-enumeration
    guidance: the answer goes by message to the owner). Nothing about the asker is given.
    """
    check = IdentityCheck.objects.pending().filter(pk=check_id).first()
    claimed = check.claimed_identifier if check is not None else None
    if claimed is None:
        return 0
    holders = Person.objects.with_identifier(claimed.value).exclude(pk=check.person_id)
    contacts = Contact.objects.filter(
        account__person__in=holders, account__is_active=True, verified_at__isnull=False
    ).select_related("account")
    sent = 0
    with transaction.atomic():
        for contact in contacts.order_by("account_id", "kind", "created_at", "id"):
            message_send(
                channel=message_channel_for(contact.kind),
                recipient=contact.value,
                template=MESSAGE_TO_HOLDER,
                context={"asked_at": check.created_at},
                account=contact.account,
            )
            sent += 1
    return sent


class _Refused(Exception):
    """The claim can be neither bound nor attached (raised inside the acceptance's transaction);
    ``code`` and ``message`` are the IdentityCheckError's."""

    def __init__(self, code: str = "taken", message: str = NUMBER_TAKEN):
        super().__init__(code)
        self.code, self.message = code, message


def _bind_claim(*, actor: Actor, check: IdentityCheck, claimed: Identifier) -> Person | None:
    """Bind the claimed number to the check's person if nobody holds it; if a file member holds
    it, attach the account to them (``_attach``). Returns the holder attached to, else None.

    Looked for under every configured HMAC key and among the former identifiers (a key rotation
    must not let a number be bound twice); a holder recorded between this look-up and the write
    is caught by the unique digests (``IntegrityError``): refused as ``taken``.
    """
    if FormerIdentifier.objects.with_identifier(claimed.value).exists():
        raise _Refused
    holders = list(
        Person.objects.select_for_update().with_identifier(claimed.value).exclude(pk=check.person_id).order_by("pk")
    )
    if holders:
        return _attach(actor=actor, check=check, claimed=claimed, holders=holders)
    try:
        with transaction.atomic():
            person_rekey(
                actor=actor,
                person=check.person,
                new_identifier=claimed,
                identifier_type=check.claimed_identifier_type or IdentifierType.NIR,
            )
    except (RekeyError, IntegrityError):
        raise _Refused from None
    return None


def _attach(*, actor: Actor, check: IdentityCheck, claimed: Identifier, holders: list[Person]) -> Person:
    """The claimed number is held by a known person (a child or other member of a file who
    has no account yet, typically a 16- or 17-year-old who signed up alone): the checked account
    becomes theirs, if all of this holds, under the lock of the holder's row:

    - the holder has no account (else ``taken``: they sign in with theirs);
    - the policy lets them claim an account alone on every file of theirs (``CLAIM_ALONE``; a
      responsible person or a spouse uses the first connection or an invitation: ``not_alone``);
    - the identity declared at the sign-up is the holder's (moncompte.identity.matching: names by
      their key, birth date, sex, birth place; else ``mismatch``).

    Then: the account's person becomes the holder, the provisional person is folded into them
    (its identifier a former one of theirs: ``person_retire_into``), the holder's open
    invitations are closed, and it is journaled. An account created meanwhile for the holder
    (first connection, invitation) is caught by the unique Account.person: ``taken``.
    """
    if len(holders) != 1 or Account.objects.filter(person=holders[0]).exists():
        raise _Refused
    holder = holders[0]
    if not may_claim_alone(holder):
        raise _Refused("not_alone", NUMBER_NOT_ALONE)
    provisional = check.person
    match = match_person(
        identifier=claimed,
        first_names=provisional.first_names,
        birth_name=provisional.birth_name,
        birth_date=provisional.birth_date,
        sex=provisional.sex,
        birth_place_code=provisional.birth_place_code,
        birth_country_code=provisional.birth_country_code,
    )
    if not match.matched or match.person.pk != holder.pk:
        raise _Refused("mismatch", NUMBER_OTHER_IDENTITY)
    account = Account.objects.select_for_update().get(person=provisional)
    try:
        with transaction.atomic():
            account.person = holder
            account.save(update_fields=["person"])
    except IntegrityError:
        raise _Refused from None
    person_retire_into(actor=actor, retired=provisional, holder=holder)
    # The agent acts: the member is not signed in through this.
    closed = invitations_close_for(actor=actor, person=holder)
    journal_record(
        action=JournalAction.IDENTITY_CHECK_ATTACHED,
        actor=actor,
        subject_person=holder,
        detail={"check": check.pk, "retired_person": provisional.pk, "invitations_closed": closed},
    )
    return holder


def identity_check_accept(
    *, actor: Actor, check: IdentityCheck, decided_by: str, reason: str = "", decided_by_agent=None
) -> IdentityCheck:
    """An agent accepts an identity check: the claimed NIR, if any, becomes the person's
    identifier (their provisional one is kept as a former identifier for a while, to tell them),
    the check is ``verified`` and the person is told at their validated contacts.

    When a known person holds the claimed number (a file member without an account who signed
    up alone), the account is attached to them instead (``_attach``): the account then gives
    access to what the policy lets them see of their file.

    Who may accept is the agent console's rule (issue 12); ``decided_by`` names the agent as
    shown then, ``decided_by_agent`` (an ``agents.Agent``, None for a command) is recorded too.
    Raises IdentityCheckError: ``closed`` for a check already decided, ``taken`` when the
    claimed number is held by another person who has an account (or held it formerly),
    ``not_alone`` when its holder is a responsible person or a spouse, ``mismatch`` when the
    declared identity is not the holder's. Nothing changes then, the check stays pending for the
    agent to refuse or to correct, and the refusal is journaled.
    """
    try:
        with transaction.atomic():
            # The lock orders two decisions of one check; two checks claiming one number are
            # ordered by the unique digest of Person.
            locked = IdentityCheck.objects.select_for_update().select_related("person").get(pk=check.pk)
            if locked.state != IdentityCheckState.TO_VERIFY:
                raise IdentityCheckError(CHECK_DECIDED, code="closed")
            claimed = locked.claimed_identifier
            attached_to = None
            if claimed is not None:
                attached_to = _bind_claim(actor=actor, check=locked, claimed=claimed)
            if attached_to is not None:
                locked.person = attached_to  # the check moved to the holder with the rest
            locked.state = IdentityCheckState.VERIFIED
            locked.decided_at = timezone.now()
            locked.decided_by = decided_by[:200]
            locked.decided_by_agent = decided_by_agent
            locked.reason = reason
            locked.save(update_fields=["state", "decided_at", "decided_by", "decided_by_agent", "reason"])
            journal_record(
                action=JournalAction.IDENTITY_CHECK_ACCEPTED,
                actor=actor,
                subject_person=locked.person,
                detail={"check": locked.pk, "bound": claimed is not None},
            )
            _tell_accepted(locked.person, bound=claimed is not None, attached=attached_to is not None)
    except _Refused as refused:
        # Outside the rolled-back block: the refusal leaves its trace.
        journal_record(
            action=JournalAction.IDENTITY_CHECK_BIND_REFUSED,
            actor=actor,
            subject_person=check.person,
            detail={"check": check.pk, "code": refused.code},
        )
        raise IdentityCheckError(refused.message, code=refused.code) from None
    return locked


def _tell_accepted(person: Person, *, bound: bool, attached: bool = False) -> None:
    account = Account.objects.filter(person=person).first()
    if account is None:
        return
    for contact in account.contacts.filter(verified_at__isnull=False).order_by("kind", "created_at", "id"):
        message_send(
            channel=message_channel_for(contact.kind),
            recipient=contact.value,
            template=MESSAGE_ATTACHED if attached else MESSAGE_ACCEPTED,
            context={} if attached else {"bound": bound},
            account=account,
        )


# Refusal of an identity check by an agent (issue 12), and the person's new try ------------------

MESSAGE_REJECTED = "identity_check_rejected"
# The usual reasons an agent picks from (code, French text sent to the person); "other" needs
# the agent's own words. Any channel deciding checks offers these.
REJECTION_REASONS: tuple[tuple[str, str], ...] = (
    ("illegible", "Document illisible"),
    ("mismatch", "Le document ne correspond pas à l'identité déclarée"),
    ("expired", "Document expiré"),
    (
        "not_identity",
        "Le document n'est pas une pièce d'identité acceptée (carte d'identité, passeport, titre de séjour)",
    ),
    ("incomplete", "Document incomplet (par exemple le verso de la carte manque)"),
    ("other", "Autre motif"),
)
REJECTION_REASON_MAX_LENGTH = 1000
REASON_REQUIRED = "Indiquez le motif du refus : il est envoyé à la personne avec ce qu'elle peut faire."
REASON_TOO_LONG = f"Le motif du refus ne peut pas dépasser {REJECTION_REASON_MAX_LENGTH} caractères."


def identity_check_reject(*, actor: Actor, check: IdentityCheck, reason: str) -> IdentityCheck:
    """An agent refuses an identity check: the check is ``rejected`` with ``reason`` (required,
    sent to the person), and the person is told at their validated contacts what to do next:
    send a new document from Mon Compte (``identity_check_reopen`` opens a new check then) or
    come to the counter with an identity document. The account stays as it is: it signs in and
    shows the person's own page only.

    ``actor`` is the agent (their name and row are recorded as the decision's author); who may
    refuse is the console's rule. Raises IdentityCheckError: ``closed`` for a decided check,
    ``reason`` without a reason (nothing changes then). The reason's text is not journaled
    (free text an agent typed): the journal says which check and who.
    """
    reason = (reason or "").strip()
    problem = REASON_REQUIRED if not reason else REASON_TOO_LONG if len(reason) > REJECTION_REASON_MAX_LENGTH else ""
    if problem:
        error = IdentityCheckError(problem, code="reason", field="reason")
        error.status = 400  # an input to correct, not a conflict
        raise error
    agent = actor.agent
    with transaction.atomic():
        locked = IdentityCheck.objects.select_for_update().select_related("person").get(pk=check.pk)
        if locked.state != IdentityCheckState.TO_VERIFY:
            raise IdentityCheckError(CHECK_DECIDED, code="closed")
        locked.state = IdentityCheckState.REJECTED
        locked.decided_at = timezone.now()
        locked.decided_by = agent.display_name[:200] if agent is not None else ""
        locked.decided_by_agent = agent
        locked.reason = reason
        locked.save(update_fields=["state", "decided_at", "decided_by", "decided_by_agent", "reason"])
        journal_record(
            action=JournalAction.IDENTITY_CHECK_REJECTED,
            actor=actor,
            subject_person=locked.person,
            detail={"check": locked.pk},
        )
        account = Account.objects.filter(person=locked.person).first()
        if account is not None:
            for contact in account.contacts.filter(verified_at__isnull=False).order_by("kind", "created_at", "id"):
                message_send(
                    channel=message_channel_for(contact.kind),
                    recipient=contact.value,
                    template=MESSAGE_REJECTED,
                    context={"reason": reason},
                    account=account,
                )
    return locked


def rejected_identity_check(person: Person) -> IdentityCheck | None:
    """The person's last identity check when it was refused and none is pending: they may send
    a new document, which opens a new check (``identity_check_reopen``). None otherwise."""
    last = IdentityCheck.objects.filter(person=person).order_by("-created_at", "-id").first()
    if last is None or last.state != IdentityCheckState.REJECTED:
        return None
    return last


def identity_check_reopen(*, actor: Actor, person: Person) -> IdentityCheck:
    """After a refusal, the person sends a new document: a new check ``to_verify`` for them, with
    what they declared at the sign-up (birth place as typed, address, the claimed number, the
    possible duplicate) taken from the refused one. One pending check per person (the database
    constraint): a pending one is returned as it is. Raises NotAllowed when the person has no
    refused check to follow (a verified identity is not checked again this way)."""
    pending = pending_identity_check(person)
    if pending is not None:
        return pending
    previous = rejected_identity_check(person)
    if previous is None:
        raise NotAllowed()
    copied = {
        name: getattr(previous, name)
        for name in (
            "match_outcome",
            "candidate_person_id",
            "birth_place_label",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "claimed_identifier_type",
            "claimed_identifier_digest",
            "claimed_identifier_encrypted",
        )
    }
    try:
        with transaction.atomic():
            check = IdentityCheck.objects.create(person=person, **copied)
            journal_record(
                action=JournalAction.IDENTITY_CHECK_REOPENED,
                actor=actor,
                subject_person=person,
                detail={"check": check.pk, "previous": previous.pk},
            )
    except IntegrityError:  # opened by the person's other tab meanwhile
        return pending_identity_check(person)
    return check


def _document_scopes(actor: Actor, check: IdentityCheck) -> list[throttling.ThrottleScope]:
    return [
        throttling.ThrottleScope(
            f"throttle:document:check:{check.pk}", DOCUMENT_FREE_REFUSALS, DOCUMENT_MAX_WAIT_SECONDS
        ),
        throttling.address_scope("document", actor.client_address or ""),
    ]


def signup_document_send(*, actor: Actor, check: IdentityCheck, uploaded_file, kind: str) -> IdentityDocument:
    """An identity document for the person's pending check (``document_store``), with its refusals
    counted: a file the parser refuses may have cost seconds of CPU, so hostile files cannot be
    sent without end. Raises DocumentError (``throttled`` once the waits begin)."""
    scopes = _document_scopes(actor, check)
    wait = throttling.scopes_wait(scopes)
    if wait:
        journal_record(action=JournalAction.IDENTITY_DOCUMENT_THROTTLED, actor=actor, detail={"wait_seconds": wait})
        raise DocumentError(DOCUMENTS_THROTTLED.format(wait=wait_text(wait)), code="throttled")
    try:
        return document_store(actor=actor, check=check, uploaded_file=uploaded_file, kind=kind)
    except DocumentError:
        throttling.scopes_failed(scopes)
        raise
