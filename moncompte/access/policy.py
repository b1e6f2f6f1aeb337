"""The one authorization policy: who may see or do what on which file.

Every channel (web pages, API, phone, counter) asks ``decide()`` or reads through the scoped
reads built here from the same table (``Dossier.objects.visible_to(person, action)``, the
selectors of moncompte.households.selectors); none reads a file's content any other way. The
rules are PRODUCT.md section 3, written out in docs/access.md. Roles and standings are compared
here and nowhere else: the rest of the code asks.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Exists, OuterRef, Q

from moncompte.households.models import Dossier, Member, Role


class Standing(StrEnum):
    """What a person is to a file."""

    RESPONSABLE = "responsable"  # R
    SPOUSE_DELEGATED = "conjoint_autorise"  # S+
    SPOUSE = "conjoint"  # S
    MEMBER = "membre"  # M: child or other person over 15
    FORMER_SPOUSE = "ancien_conjoint"  # X: after a separation
    STRANGER = "aucun"  # O


class Action(StrEnum):
    SEE_OWN_DATA = "see_own_data"
    CHANGE_OWN_CONTACTS = "change_own_contacts"
    SEE_DOSSIER = "see_dossier"  # members, address, benefits, payments, history
    SEE_HOUSEHOLD = "see_household"
    HOUSEHOLD_PROCEDURE = "household_procedure"
    INDIVIDUAL_REQUEST = "individual_request"
    ANSWER_CAF_REQUEST = "answer_caf_request"
    DECLARE_SEPARATION = "declare_separation"
    COUNTER_INFORMATION = "counter_information"
    GRANT_DELEGATION = "grant_delegation"
    REVOKE_DELEGATION = "revoke_delegation"
    RENOUNCE_DELEGATION = "renounce_delegation"
    INVITE_MEMBER = "invite_member"
    # Who may claim an account for themselves, by their standing on a file:
    CLAIM_BY_FIRST_CONNECTION = "claim_by_first_connection"  # with the file's old code
    CLAIM_BY_INVITATION = "claim_by_invitation"  # with an invitation of R or S+
    CLAIM_ALONE = "claim_alone"  # with their identity only: must hold on every file of theirs
    # The separation declarations naming the person as one of the two spouses (issue 9): also
    # for the spouse who left, who sees nothing else of the file.
    SEE_OWN_SEPARATION = "see_own_separation"
    # ASSISTED (issue 12): an account opened at the counter, the person identified by an agent
    # with an identity document: any current member of the file (old enough to hold an account).
    CLAIM_AT_COUNTER = "claim_at_counter"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    # True when the person may act only on what concerns them (own data, own answers).
    own_only: bool = False

    def __bool__(self) -> bool:
        return self.allowed


_R, _SP, _S, _M, _X, _O = (
    Standing.RESPONSABLE,
    Standing.SPOUSE_DELEGATED,
    Standing.SPOUSE,
    Standing.MEMBER,
    Standing.FORMER_SPOUSE,
    Standing.STRANGER,
)
_EVERYONE = {_R, _SP, _S, _M, _X, _O}

# Action -> (standings allowed on the whole file, standings allowed on their own part only).
_RULES: dict[Action, tuple[set[Standing], set[Standing]]] = {
    Action.SEE_OWN_DATA: (set(), _EVERYONE),
    Action.CHANGE_OWN_CONTACTS: (set(), _EVERYONE),
    Action.SEE_DOSSIER: ({_R, _SP}, set()),
    Action.SEE_HOUSEHOLD: ({_R, _SP}, set()),
    Action.HOUSEHOLD_PROCEDURE: ({_R, _SP}, set()),
    Action.INDIVIDUAL_REQUEST: ({_R, _SP, _S}, set()),
    Action.ANSWER_CAF_REQUEST: ({_R, _SP}, {_S, _M}),
    Action.DECLARE_SEPARATION: ({_R, _SP, _S}, set()),
    Action.COUNTER_INFORMATION: ({_R, _SP}, set()),
    # The responsible person grants and revokes; a delegated spouse may only renounce.
    Action.GRANT_DELEGATION: ({_R}, set()),
    Action.REVOKE_DELEGATION: ({_R}, set()),
    Action.RENOUNCE_DELEGATION: ({_SP}, set()),
    Action.INVITE_MEMBER: ({_R, _SP}, set()),
    Action.CLAIM_BY_FIRST_CONNECTION: ({_R, _SP, _S}, set()),
    Action.CLAIM_BY_INVITATION: ({_R, _SP, _S, _M}, set()),
    # A responsible person or spouse would see the file: names and a NIR are not proof enough.
    Action.CLAIM_ALONE: ({_M, _X, _O}, set()),
    Action.SEE_OWN_SEPARATION: (set(), {_R, _SP, _S, _X}),
    Action.CLAIM_AT_COUNTER: ({_R, _SP, _S, _M}, set()),  # ASSISTED (issue 12)
}


# How a standing is told to the person themselves (their own data page and export).
STANDING_LABELS = {
    Standing.RESPONSABLE: "Responsable du dossier",
    Standing.SPOUSE_DELEGATED: "Conjoint ou conjointe, avec autorisation de gestion",
    Standing.SPOUSE: "Conjoint ou conjointe, sans autorisation de gestion",
    Standing.MEMBER: "Membre du foyer",
    Standing.FORMER_SPOUSE: "Ancien conjoint ou ancienne conjointe",
    Standing.STRANGER: "N'est plus rattaché(e) au dossier",
}


def standing_label(current: Standing) -> str:
    return STANDING_LABELS[current]


def _standing(role: str, delegated: bool, ended_on: datetime.date | None, on: datetime.date) -> Standing:
    if not Member.ended_on_is_current(ended_on, on):
        return Standing.FORMER_SPOUSE if role == Role.CONJOINT else Standing.STRANGER
    if role == Role.RESPONSABLE:
        return Standing.RESPONSABLE
    if role == Role.CONJOINT:
        return Standing.SPOUSE_DELEGATED if delegated else Standing.SPOUSE
    return Standing.MEMBER


def standing_of(member: Member | None, on: datetime.date | None = None) -> Standing:
    """The standing given by one membership row (None: no membership at all)."""
    if member is None:
        return Standing.STRANGER
    return _standing(
        member.role, member.delegation_granted_at is not None, member.ended_on, on or datetime.date.today()
    )


_STANDING_FIELDS = ("dossier_id", "role", "delegation_granted_at", "ended_on")


def standings(person) -> dict[int, Standing]:
    """The person's standing on each file they belong to, read now from the database (one light
    query, no cache: a right withdrawn a moment ago is gone on the next request)."""
    if person is None:
        return {}
    today = datetime.date.today()
    rows = Member.objects.filter(person=person).values_list(*_STANDING_FIELDS)
    return {dossier_id: _standing(role, granted is not None, ended, today) for dossier_id, role, granted, ended in rows}


def standing(person, dossier: Dossier) -> Standing:
    if person is None:
        return Standing.STRANGER
    row = Member.objects.filter(person=person, dossier=dossier).values_list(*_STANDING_FIELDS).first()
    if row is None:
        return Standing.STRANGER
    _, role, granted, ended = row
    return _standing(role, granted is not None, ended, datetime.date.today())


def _decision(current: Standing, action: Action) -> Decision:
    whole, own = _RULES[action]
    if current in whole:
        return Decision(True, f"{current}: autorisé")
    if current in own:
        return Decision(True, f"{current}: autorisé pour ce qui le concerne", own_only=True)
    return Decision(False, f"{current}: non autorisé")


# Every answer of the table, made once: deciding is a dictionary look-up.
_DECISIONS = {(current, action): _decision(current, action) for current in Standing for action in Action}


def decide_for_standing(current: Standing, action: Action) -> Decision:
    return _DECISIONS[(current, action)]


def decide(*, person, dossier: Dossier, action: Action) -> Decision:
    return decide_for_standing(standing(person, dossier), action)


def may_claim_alone(person) -> bool:
    """CLAIM_ALONE on every file of the person (a person of no file at all may): an account
    created with the person's identity only, then checked by an agent, may become theirs. A
    responsible person or a spouse on any file may not (they would see that file)."""
    return all(decide_for_standing(current, Action.CLAIM_ALONE).allowed for current in standings(person).values())


def may_request_as_newcomer(person) -> bool:
    """A procedure open to new beneficiaries (issue 10: the housing aid started without an
    account) may be made outside any file by a person who belongs to no file now: a visitor
    (None), a person of no file, a former spouse, someone who left a file. A current member
    makes it for their household, through the file's rule."""
    return all(not is_current_standing(current) for current in standings(person).values())


def procedure_allowed(current: Standing, action: Action, *, household: bool, is_author: bool) -> bool:
    """May a person of standing ``current`` on a procedure's file see and continue it?

    A household procedure (benefit requests, changes of situation) is the file's: whoever may
    take ``action`` on the whole file, whoever started it (a spouse who lost the delegation, a
    spouse who left, no longer may). An individual one (procedure types marked individual, a
    separation declaration) is its author's only, while their standing allows ``action`` at all.
    """
    if household:
        return allowed_on_whole_file(current, action)
    return is_author and decide_for_standing(current, action).allowed


def allowed_on_whole_file(current: Standing, action: Action) -> bool:
    """Allowed on the whole file, not only on the person's own part."""
    decision = decide_for_standing(current, action)
    return decision.allowed and not decision.own_only


# Objects of a file that concern the household or one of its members (issue 10: the Caf's
# requests, addressed to the household or to one member personally) ---------------------------


def allowed_on_concerning(current: Standing, action: Action, *, concerns_me: bool) -> bool:
    """May a person of standing ``current`` take ``action`` on an object of the file that
    concerns the whole household (``concerns_me`` False) or them personally (True)? On the whole
    file: every object of it; on their own part only (S, M for ANSWER_CAF_REQUEST): only those
    addressed to them. X and O: none, even one addressed to them before they left."""
    decision = decide_for_standing(current, action)
    return decision.allowed and (concerns_me or not decision.own_only)


def concerning_condition(person, action: Action, *, dossier_field: str, concerning_field: str) -> Q:
    """The scoped read of such objects: a condition on any model with a foreign key to the file
    (``dossier_field``) and one to the person it concerns (``concerning_field``, null for the
    household), keeping the objects ``person`` may take ``action`` on (``allowed_on_concerning``).

    Built from the person's standings, read now (one light query, ``standings``): the condition
    is then a plain ``dossier_id IN (...)`` that an index answers, whatever the size of the table.
    A person of no file gets a condition that matches nothing (Django runs no query for it)."""
    whole, own = [], []
    for dossier_id, current in standings(person).items():
        if allowed_on_concerning(current, action, concerns_me=False):
            whole.append(dossier_id)
        elif allowed_on_concerning(current, action, concerns_me=True):
            own.append(dossier_id)
    condition = Q(**{f"{dossier_field}__in": whole})
    if own:
        condition |= Q(**{f"{dossier_field}__in": own, concerning_field: person})
    return condition


def members_allowed_on_concerning(members, action: Action, *, concerning_person_id: int | None) -> list[Member]:
    """Among a file's membership rows, those whose person may take ``action`` on an object that
    concerns ``concerning_person_id`` (None: the household): who is told about it."""
    return [
        m
        for m in members
        if allowed_on_concerning(
            standing_of(m), action, concerns_me=concerning_person_id is not None and m.person_id == concerning_person_id
        )
    ]


# The scoped reads: the same table, as conditions on membership rows --------------------------


def _standing_condition(current: Standing, on: datetime.date) -> Q:
    """The membership rows that give ``current`` (the SQL form of ``_standing``; a stranger also
    gets O from having no row at all, which no row condition can say)."""
    is_current = Member.current_condition(on)
    spouse = Q(role=Role.CONJOINT)
    return {
        Standing.RESPONSABLE: is_current & Q(role=Role.RESPONSABLE),
        Standing.SPOUSE_DELEGATED: is_current & spouse & Q(delegation_granted_at__isnull=False),
        Standing.SPOUSE: is_current & spouse & Q(delegation_granted_at__isnull=True),
        Standing.MEMBER: is_current & ~Q(role__in=[Role.RESPONSABLE, Role.CONJOINT]),
        Standing.FORMER_SPOUSE: ~is_current & spouse,
        Standing.STRANGER: ~is_current & ~spouse,
    }[current]


def membership_condition(action: Action, on: datetime.date | None = None) -> Q:
    """The membership rows on whose file ``action`` is allowed on the whole file."""
    whole, _ = _RULES[action]
    if Standing.STRANGER in whole:
        # Allowed to people with no row at all: not a question about files.
        raise ValueError(f"{action} is not scoped to files.")
    on = on or datetime.date.today()
    condition = Q(pk__in=[])
    for current in sorted(whole):
        condition |= _standing_condition(current, on)
    return condition


def dossier_condition(person, action: Action, on: datetime.date | None = None) -> Exists:
    """The condition on files behind ``Dossier.objects.visible_to(person, action)``: the person
    has a membership row on the file giving a standing allowed on the whole file. An Exists(),
    not a join: one row per file whatever the number of memberships."""
    rows = Member.objects.filter(dossier=OuterRef("pk"), person=person).filter(membership_condition(action, on))
    return Exists(rows)


def allowed_memberships(person, *actions: Action):
    """The person's membership rows on whose file one of ``actions`` is allowed on the whole file."""
    if person is None or not actions:
        return Member.objects.none()
    condition = Q(pk__in=[])
    for action in actions:
        condition |= membership_condition(action)
    return Member.objects.filter(person=person).filter(condition)


def memberships_with_standing(person, *, current_only: bool = False) -> list[tuple[Member, Standing]]:
    """Every membership of the person (or only the current ones), with the file and its Caf, in one query."""
    members = Member.objects.filter(person=person)
    if current_only:
        members = members.current()
    members = members.select_related("dossier__caf").order_by("id")
    return [(m, standing_of(m)) for m in members]


# The couple of a file -------------------------------------------------------------------------
# The delegation and a separation concern the file's responsible person and spouse: found here,
# so that no other module compares roles.


def couple_condition() -> Q:
    """The membership rows of a responsible person or a spouse."""
    return Q(role__in=[Role.RESPONSABLE, Role.CONJOINT])


def children_condition() -> Q:
    """The membership rows of the file's children (those who may follow a parent at a separation)."""
    return Q(role=Role.ENFANT)


def couple(members) -> tuple[Member | None, Member | None]:
    """The responsible person and the spouse among current membership rows (None when absent)."""
    members = list(members)
    responsable = next((m for m in members if m.role == Role.RESPONSABLE), None)
    spouse = next((m for m in members if m.role == Role.CONJOINT), None)
    return responsable, spouse


def is_spouse(member: Member) -> bool:
    """A spouse's row, current or former: the delegation is about spouses only."""
    return member.role == Role.CONJOINT


def is_current_standing(current: Standing) -> bool:
    """A standing given by a current membership (not X, not O)."""
    return current not in (Standing.FORMER_SPOUSE, Standing.STRANGER)


# What an agent may tell the person served (issue 12: the counter, the phone) -----------------
# The same standings as everywhere: the agent's console and the telephony API show what the
# person may be told and why the rest is hidden, never decide it themselves.


@dataclass(frozen=True)
class Disclosure:
    """What may be told about one file to a person of standing ``standing`` on it.

    ``file_information``: the file itself (members, address, benefits, payments, history, the
    household's procedures and the Caf's requests to the household). ``own_information``: what
    concerns the person only (their own data, their own requests and answers). ``hidden_reason``
    says, in French for the agent, why the rest is hidden ("" when nothing is)."""

    standing: Standing
    file_information: bool
    own_information: bool
    hidden_reason: str

    @property
    def label(self) -> str:
        return STANDING_LABELS[self.standing]


_HIDDEN_REASONS = {
    Standing.RESPONSABLE: "",
    Standing.SPOUSE_DELEGATED: "",
    Standing.SPOUSE: (
        "Conjoint ou conjointe sans autorisation de gestion : aucune information sur le dossier. "
        "Seules ses propres données peuvent lui être communiquées."
    ),
    Standing.MEMBER: (
        "Membre du foyer : aucune information sur le dossier. Seules ses propres données peuvent lui être communiquées."
    ),
    Standing.FORMER_SPOUSE: (
        "Ancien conjoint ou ancienne conjointe depuis la séparation déclarée : plus aucune information "
        "sur le dossier. Seules ses propres données peuvent lui être communiquées."
    ),
    Standing.STRANGER: (
        "Cette personne n'est pas membre de ce dossier : aucune information ne peut lui être communiquée."
    ),
}


def disclosure_for(current: Standing) -> Disclosure:
    """What a person of standing ``current`` on a file may be told of it at the counter or on
    the phone (PRODUCT.md section 3, "be told about the file at the counter or on the phone")."""
    return Disclosure(
        standing=current,
        file_information=allowed_on_whole_file(current, Action.COUNTER_INFORMATION),
        # Their own part of a file they belong or belonged to; a stranger has no part of it.
        own_information=current != Standing.STRANGER and decide_for_standing(current, Action.SEE_OWN_DATA).allowed,
        hidden_reason=_HIDDEN_REASONS[current],
    )
