"""The one authorization policy: who may see or do what on which file.

Every channel (web pages, API, phone, counter) asks ``decide()`` or uses the scoped querysets
below; none reads a file's content any other way. The rules are PRODUCT.md section 3, written
out in docs/access.md.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

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
    MANAGE_DELEGATION = "manage_delegation"
    GRANT_DELEGATION = "grant_delegation"
    REVOKE_DELEGATION = "revoke_delegation"
    RENOUNCE_DELEGATION = "renounce_delegation"
    INVITE_MEMBER = "invite_member"
    # Who may claim an account for themselves, by their standing on a file:
    CLAIM_BY_FIRST_CONNECTION = "claim_by_first_connection"  # with the file's old code
    CLAIM_BY_INVITATION = "claim_by_invitation"  # with an invitation of R or S+
    CLAIM_ALONE = "claim_alone"  # with their identity only: must hold on every file of theirs


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
    Action.MANAGE_DELEGATION: ({_R, _SP}, set()),
    Action.GRANT_DELEGATION: ({_R}, set()),
    Action.REVOKE_DELEGATION: ({_R}, set()),
    Action.RENOUNCE_DELEGATION: ({_SP}, set()),
    Action.INVITE_MEMBER: ({_R, _SP}, set()),
    Action.CLAIM_BY_FIRST_CONNECTION: ({_R, _SP, _S}, set()),
    Action.CLAIM_BY_INVITATION: ({_R, _SP, _S, _M}, set()),
    # A responsible person or spouse would see the file: names and a NIR are not proof enough.
    Action.CLAIM_ALONE: ({_M, _X, _O}, set()),
}


def _standing(role: str, delegated: bool, ended_on: datetime.date | None, on: datetime.date) -> Standing:
    if ended_on is not None and ended_on <= on:
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


def memberships_with_standing(person) -> list[tuple[Member, Standing]]:
    """Every membership of the person, with the file and its Caf, in one query."""
    members = Member.objects.filter(person=person).select_related("dossier__caf").order_by("id")
    return [(m, standing_of(m)) for m in members]


def dossiers_visible_to(person, action: Action = Action.SEE_DOSSIER):
    """The files on which the person may take ``action`` for the whole household."""
    allowed = [s for s in _RULES[action][0]]
    today = datetime.date.today()
    filters = []
    if Standing.RESPONSABLE in allowed:
        filters.append({"members__role": Role.RESPONSABLE})
    if Standing.SPOUSE_DELEGATED in allowed:
        filters.append({"members__role": Role.CONJOINT, "members__delegation_granted_at__isnull": False})
    if Standing.SPOUSE in allowed:
        filters.append({"members__role": Role.CONJOINT})
    from django.db.models import Q

    condition = Q(pk__in=[])
    for f in filters:
        condition |= Q(**f)
    active = Q(members__ended_on__isnull=True) | Q(members__ended_on__gt=today)
    return Dossier.objects.filter(Q(members__person=person) & active & condition).distinct()
