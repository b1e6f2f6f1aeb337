"""Household pages: /mon-compte/foyer/ (members and roles), the delegation and a separation.

No file id in any URL: the file is taken from the signed-in person's own memberships through the
scoped selectors (moncompte.households.selectors), for the action of the page. A person has one
current file in practice; if they had several, the oldest current membership on which the action
is allowed is used. Where the policy says no, the page answers 404, never 403 (docs/access.md).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.access.policy import Action, allowed_on_whole_file, couple
from moncompte.accounts.models import Account
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.errors import DomainError, Throttled
from moncompte.households.invitations import live_invitations
from moncompte.households.selectors import couple_of, household_members, membership_for, separation_notices
from moncompte.households.services import (
    delegation_grant,
    delegation_renounce,
    delegation_revoke,
    separation_declare,
)
from moncompte.web.actors import actor_of
from moncompte.web.errors import add_domain_error, refusals_as_404
from moncompte.web.household.forms import DelegationForm, SeparationForm

_DELEGATION_ACTIONS = (Action.GRANT_DELEGATION, Action.REVOKE_DELEGATION, Action.RENOUNCE_DELEGATION)
_SERVICES = {"grant": delegation_grant, "revoke": delegation_revoke, "renounce": delegation_renounce}


def _has_account(person) -> bool:
    try:
        return person.account is not None
    except Account.DoesNotExist:
        return False


@require_GET
@refusals_as_404
def household_view(request):
    actor = actor_of(request)
    mine = membership_for(actor=actor, action=Action.SEE_HOUSEHOLD)
    dossier = mine.dossier
    members = household_members(actor=actor, membership=mine)
    # The invitations' state is computed now: a member with an account is never "invité(e)".
    invited = {i.member_id: i for i in live_invitations(actor=actor, dossier=dossier)}
    rows = [
        {
            "member": m,
            "has_account": _has_account(m.person),
            "invitation": invited.get(m.pk),
            "is_me": m.person_id == actor.person.pk,
        }
        for m in members
    ]
    _, spouse = couple(members)
    journal_record(action=JournalAction.HOUSEHOLD_VIEW, actor=actor, dossier=dossier)
    granted = spouse is not None and spouse.delegation_granted_at is not None

    def may(action: Action) -> bool:
        return allowed_on_whole_file(mine.standing, action)

    context = {
        "dossier": dossier,
        "rows": rows,
        "spouse": spouse,
        "can_grant": may(Action.GRANT_DELEGATION) and spouse is not None and not granted,
        "can_revoke": may(Action.REVOKE_DELEGATION) and granted,
        "can_renounce": may(Action.RENOUNCE_DELEGATION),
        "can_invite": may(Action.INVITE_MEMBER),
        "can_separate": spouse is not None and may(Action.DECLARE_SEPARATION),
        "separations": [n for n in separation_notices(actor=actor) if n.dossier.pk == dossier.pk],
    }
    return render(request, "web/household/index.html", context)


def _delegation_change(mine, spouse) -> str:
    """What this person may do to the delegation as it stands: "grant", "revoke" or "renounce"."""
    granted = spouse.delegation_granted_at is not None
    if granted and allowed_on_whole_file(mine.standing, Action.REVOKE_DELEGATION):
        return "revoke"
    if granted and allowed_on_whole_file(mine.standing, Action.RENOUNCE_DELEGATION):
        return "renounce"
    if not granted and allowed_on_whole_file(mine.standing, Action.GRANT_DELEGATION):
        return "grant"
    raise Http404


@require_http_methods(["GET", "POST"])
@refusals_as_404
def delegation_view(request):
    actor = actor_of(request)
    mine = membership_for(actor=actor, action=_DELEGATION_ACTIONS)
    dossier = mine.dossier
    _, spouse = couple_of(actor=actor, membership=mine, action=_DELEGATION_ACTIONS)
    if spouse is None:
        raise Http404
    what = _delegation_change(mine, spouse)
    intent = "accorder" if what == "grant" else "retirer"
    form = DelegationForm(request.POST or None, initial={"intent": intent})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if form.cleaned_data["intent"] != intent:
                # The delegation changed since the page was shown (the other spouse acted).
                messages.warning(request, "L'autorisation de gestion a changé entre-temps. Vérifiez puis confirmez.")
                return redirect("web:household_delegation")
            try:
                _SERVICES[what](actor=actor, dossier=dossier, password=form.cleaned_data["password"])
            except DomainError as refused:
                add_domain_error(form, refused)
                if isinstance(refused, Throttled):
                    status = 429
            else:
                name = spouse.person.display_name
                if what == "grant":
                    messages.success(request, f"{name} est maintenant autorisé(e) à gérer le dossier.")
                elif what == "revoke":
                    messages.success(request, f"L'autorisation de gestion de {name} a été retirée.")
                else:
                    messages.success(request, "Vous avez renoncé à l'autorisation de gérer le dossier.")
                    return redirect("web:home")
                return redirect("web:household")
    return render(
        request,
        "web/household/delegation.html",
        {"form": form, "intent": intent, "what": what, "spouse": spouse},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@refusals_as_404
def separation_view(request):
    actor = actor_of(request)
    mine = membership_for(actor=actor, action=Action.DECLARE_SEPARATION)
    responsable, spouse = couple_of(actor=actor, membership=mine, action=Action.DECLARE_SEPARATION)
    if responsable is None or spouse is None:
        raise Http404
    other = spouse if mine.member.pk == responsable.pk else responsable
    form = SeparationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            leaving = actor.person if form.cleaned_data["leaving"] == "moi" else other.person
            try:
                separation_declare(
                    actor=actor,
                    dossier=mine.dossier,
                    separated_on=form.cleaned_data["separated_on"],
                    leaving_person=leaving,
                    new_address=form.new_address(),
                )
            except DomainError as refused:
                add_domain_error(form, refused)
            else:
                messages.success(
                    request,
                    "Votre séparation est déclarée. L'ancien conjoint ou l'ancienne conjointe n'a plus accès au "
                    "dossier ; la Caf va étudier ce changement de situation.",
                )
                return redirect("web:home")
    return render(request, "web/household/separation.html", {"form": form}, status=status)
