"""Reads of files for an acting person: each takes the actor and returns only what the policy
(moncompte.access.policy) lets them see; where it says no, ``NotAllowed`` (channels answer 404).

No function here returns a file's content without an actor: a caller cannot forget to ask.
The rights are those of the person the actor acts for (``actor.subject``).
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from moncompte.access.policy import (
    Action,
    Standing,
    allowed_memberships,
    allowed_on_whole_file,
    couple,
    couple_condition,
    decide,
    decide_for_standing,
    is_current_standing,
    memberships_with_standing,
    standing_of,
)
from moncompte.core.actors import Actor
from moncompte.core.errors import NotAllowed
from moncompte.households.models import Benefit, Dossier, Member, Payment, SituationChange
from moncompte.identity.models import Person


@dataclass(frozen=True)
class Membership:
    """One of the acting person's membership rows and the standing it gives them."""

    member: Member
    standing: Standing

    @property
    def dossier(self) -> Dossier:
        return self.member.dossier


@dataclass(frozen=True)
class DossierOverview:
    dossier: Dossier
    members: list[Member]
    benefits: list[Benefit]
    payments: list[Payment]


def dossiers_for(*, actor: Actor, action: Action):
    """The files on which the actor may take ``action`` on the whole household (a queryset)."""
    return Dossier.objects.visible_to(actor.subject, action)


def dossier_payments(*, actor: Actor, dossier_id: int) -> tuple[Dossier, QuerySet[Payment]]:
    """A file the actor may see whole (SEE_DOSSIER) and its payments, most recent first (a
    queryset, for a paginated list); else NotAllowed."""
    dossier = dossiers_for(actor=actor, action=Action.SEE_DOSSIER).filter(pk=dossier_id).first()
    if dossier is None:
        raise NotAllowed()
    payments = (
        Payment.objects.filter(dossier=dossier).select_related("benefit").order_by("-paid_on", "benefit__code", "-id")
    )
    return dossier, payments


def memberships_for(*, actor: Actor, action: Action) -> list[Membership]:
    """The actor's memberships on files where ``action`` is allowed on the whole file, oldest first."""
    members = allowed_memberships(actor.subject, action).select_related("dossier__caf").order_by("id")
    return [Membership(member=m, standing=standing_of(m)) for m in members]


def membership_for(*, actor: Actor, action: Action | tuple[Action, ...]) -> Membership:
    """The actor's oldest membership on a file where ``action`` (or one of several) is allowed on
    the whole file; else NotAllowed.

    A person has one current file in practice; pages without a file id in their URL act on this one.
    """
    actions = action if isinstance(action, tuple) else (action,)
    member = allowed_memberships(actor.subject, *actions).select_related("dossier__caf").order_by("id").first()
    if member is None:
        raise NotAllowed()
    return Membership(member=member, standing=standing_of(member))


def current_memberships(*, actor: Actor) -> list[Membership]:
    """The actor's own current membership rows (their own data: nothing about the other members)."""
    return [Membership(member=m, standing=s) for m, s in memberships_with_standing(actor.subject, current_only=True)]


def _overview(dossier: Dossier, payments_limit: int) -> DossierOverview:
    members = list(Member.objects.current().filter(dossier=dossier).select_related("person").order_by("id"))
    benefits = list(Benefit.objects.filter(dossier=dossier, ended_on__isnull=True).order_by("code"))
    payments = list(
        Payment.objects.filter(dossier=dossier)
        .select_related("benefit")
        .order_by("-paid_on", "benefit__code")[:payments_limit]
    )
    return DossierOverview(dossier=dossier, members=members, benefits=benefits, payments=payments)


def dossier_overview(*, actor: Actor, dossier: Dossier, payments_limit: int = 12) -> DossierOverview:
    """The file's members, current benefits and latest payments, if the actor may see the file."""
    if not decide(person=actor.subject, dossier=dossier, action=Action.SEE_DOSSIER).allowed:
        raise NotAllowed()
    return _overview(dossier, payments_limit)


def dossier_overviews(*, actor: Actor, payments_limit: int = 12) -> list[DossierOverview]:
    """The overview of every file the actor may see, oldest file first (the scoped read, then
    three queries per file)."""
    files = dossiers_for(actor=actor, action=Action.SEE_DOSSIER).select_related("caf").order_by("id")
    return [_overview(dossier, payments_limit) for dossier in files]


@dataclass(frozen=True)
class HomeFile:
    """One current membership of the acting person, with the file's overview if they may see it."""

    membership: Membership
    overview: DossierOverview | None
    can_separate: bool

    @property
    def member(self) -> Member:
        return self.membership.member


def home_files(*, actor: Actor, payments_limit: int = 12) -> list[HomeFile]:
    """The actor's current memberships, oldest first, each with the overview of its file when the
    policy lets them see the whole file: what the home page shows, in the fewest queries.

    One query reads the person's membership rows with their file; the policy gives each row its
    standing and decides (the same decisions as ``dossiers_for(SEE_DOSSIER)``, made from the rows
    already loaded instead of a second query); then, in plain SQL, the members of the visible files
    and their people, their benefits, and per file its latest payments.
    """
    rows = Member.objects.filter(person=actor.subject).select_related("dossier__caf").order_by("id")
    mine = [Membership(member=m, standing=standing_of(m)) for m in rows]
    mine = [m for m in mine if is_current_standing(m.standing)]
    visible = [m.dossier for m in mine if allowed_on_whole_file(m.standing, Action.SEE_DOSSIER)]
    overviews = _overviews(visible, payments_limit)
    return [
        HomeFile(
            membership=m,
            overview=overviews.get(m.member.dossier_id),
            can_separate=allowed_on_whole_file(m.standing, Action.DECLARE_SEPARATION),
        )
        for m in mine
    ]


# The home page's reads of the visible files, in plain SQL through ``Model.objects.raw()``: the
# same rows as the querysets of ``_overview``, as model instances with the database converters
# applied, without compiling a query at every request (0.4-1.2 ms of CPU each through the ORM,
# about 0.2 ms this way: docs/benchmarks.md). Parameters only, never interpolated values.
_MEMBERS_SQL = "SELECT * FROM households_member WHERE dossier_id IN ({files}) ORDER BY id"
_PEOPLE_SQL = (
    "SELECT * FROM identity_person WHERE id IN (SELECT person_id FROM households_member WHERE dossier_id IN ({files}))"
)
# Every benefit of the files, and any other one their payments name, so that no payment loads its own.
_BENEFITS_SQL = (
    "SELECT * FROM households_benefit WHERE dossier_id IN ({files})"
    " OR id IN (SELECT benefit_id FROM households_payment WHERE dossier_id IN ({files})) ORDER BY code, id"
)
_PAYMENTS_SQL = (
    "SELECT p.* FROM households_payment p JOIN households_benefit b ON b.id = p.benefit_id"
    " WHERE p.dossier_id = %s ORDER BY p.paid_on DESC, b.code LIMIT %s"
)


def _overviews(dossiers: list[Dossier], payments_limit: int) -> dict[int, DossierOverview]:
    if not dossiers:
        return {}
    ids = [d.pk for d in dossiers]
    files = ", ".join(["%s"] * len(ids))
    people = {p.pk: p for p in Person.objects.raw(_PEOPLE_SQL.format(files=files), ids)}
    members: dict[int, list[Member]] = {pk: [] for pk in ids}
    for member in Member.objects.raw(_MEMBERS_SQL.format(files=files), ids):
        if member.is_current():
            member.person = people[member.person_id]
            members[member.dossier_id].append(member)
    benefits = {b.pk: b for b in Benefit.objects.raw(_BENEFITS_SQL.format(files=files), ids + ids)}
    overviews = {}
    for dossier in dossiers:
        payments = list(Payment.objects.raw(_PAYMENTS_SQL, [dossier.pk, payments_limit]))
        for payment in payments:
            payment.benefit = benefits[payment.benefit_id]
        current = [b for b in benefits.values() if b.dossier_id == dossier.pk and b.ended_on is None]
        overviews[dossier.pk] = DossierOverview(
            dossier=dossier, members=members[dossier.pk], benefits=current, payments=payments
        )
    return overviews


def _own(actor: Actor, membership: Membership, action: Action | tuple[Action, ...]) -> Membership:
    """``membership`` (as given by ``membership_for``) is the actor's and allows ``action`` (or
    one of several) on the whole file."""
    actions = action if isinstance(action, tuple) else (action,)
    if membership.member.person_id != getattr(actor.subject, "pk", None) or not any(
        allowed_on_whole_file(membership.standing, a) for a in actions
    ):
        raise NotAllowed()
    return membership


def household_members(*, actor: Actor, membership: Membership) -> list[Member]:
    """The current members of the file of the actor's ``membership``, with their person and
    account, if the actor may see the household."""
    _own(actor, membership, Action.SEE_HOUSEHOLD)
    members = Member.objects.current().filter(dossier_id=membership.member.dossier_id)
    return list(members.select_related("person__account").order_by("id"))


def couple_of(
    *, actor: Actor, membership: Membership, action: Action | tuple[Action, ...]
) -> tuple[Member | None, Member | None]:
    """The current responsible person and spouse of the file of the actor's ``membership``, for
    an ``action`` the membership allows: who the delegation and a separation are about."""
    _own(actor, membership, action)
    members = (
        Member.objects.current()
        .filter(couple_condition(), dossier_id=membership.member.dossier_id)
        .select_related("person")
        .order_by("id")
    )
    return couple(members)


# Separations, told to both spouses (issue 9) ----------------------------------------------------


@dataclass(frozen=True)
class SeparationNotice:
    """A separation declaration as told to one of the two spouses, in the second person.

    ``declared_by_me``: the reader declared it; ``i_left_file``: the reader's own membership
    ended with it (the former spouse: nothing else of the file is shown to them);
    ``declared_by_name``: who declared it, named only to the responsible person (the former
    spouse is told "la personne responsable du dossier")."""

    change: SituationChange
    dossier: Dossier
    declared_by_me: bool
    i_left_file: bool
    declared_by_name: str

    @property
    def processed(self) -> bool:
        return self.change.state == SituationChange.State.PROCESSED


def separation_notices(*, actor: Actor, former_only: bool = False) -> list[SeparationNotice]:
    """The separation declarations that name the actor as one of the two spouses, newest first,
    on the files where their membership (current or ended) allows SEE_OWN_SEPARATION: their own
    data, so a spouse who left still sees it, and nothing else of that file. ``former_only``:
    only those of files the actor no longer belongs to (their home page)."""
    person = actor.subject
    if person is None:
        return []
    rows = Member.objects.filter(person=person).select_related("dossier__caf").order_by("id")
    files = {}
    for member in rows:
        current = standing_of(member)
        if not decide_for_standing(current, Action.SEE_OWN_SEPARATION).allowed:
            continue
        if former_only and is_current_standing(current):
            continue
        files[member.dossier_id] = (member.dossier, not is_current_standing(current))
    if not files:
        return []
    changes = (
        SituationChange.objects.filter(dossier_id__in=files, kind=SituationChange.Kind.SEPARATION)
        .filter(Q(data__former_spouse_person_id=person.pk) | Q(data__responsable_person_id=person.pk))
        .select_related("declared_by")
        .order_by("-declared_at", "-id")
    )
    notices = []
    for change in changes:
        dossier, ended = files[change.dossier_id]
        mine = change.declared_by_id == person.pk
        notices.append(
            SeparationNotice(
                change=change,
                dossier=dossier,
                declared_by_me=mine,
                i_left_file=ended and change.data.get("former_spouse_person_id") == person.pk,
                declared_by_name="" if mine or ended else change.declared_by.display_name,
            )
        )
    return notices


# COUNTER (issue 12) ------------------------------------------------------------------------------


def dossier_overview_disclosed(*, dossier: Dossier, disclosure, payments_limit: int = 12) -> DossierOverview | None:
    """The file's members, current benefits and latest payments for an agent serving a person,
    when what that person may be told (``disclosure``, moncompte.access.policy.disclosure_for)
    includes the file itself; None otherwise (nothing of the file, not even counts)."""
    if not disclosure.file_information:
        return None
    return _overview(dossier, payments_limit)
