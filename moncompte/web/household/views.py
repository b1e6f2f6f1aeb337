"""Household pages: /mon-compte/foyer/ (members and roles), the delegation and a separation.

No file id in any URL: the file is taken from the signed-in person's own memberships, asking the
one policy (moncompte.access.policy) for the action of the page. A person has one current file
in practice; if they had several, the oldest current membership on which the action is allowed
is used. Where the policy says no, the page answers 404, never 403 (docs/access.md).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from moncompte.access.policy import Action, Standing, decide_for_standing, memberships_with_standing
from moncompte.accounts.models import Account
from moncompte.accounts.signin import client_address
from moncompte.audit.services import journal_record
from moncompte.households.models import Member, Role
from moncompte.households.services import (
    DelegationError,
    SeparationError,
    delegation_grant,
    delegation_revoke,
    separation_declare,
)
from moncompte.web.household.forms import DelegationForm, SeparationForm


def _file_for(person, action: Action) -> tuple[Member, Standing]:
    """The person's membership and standing on the file where ``action`` is allowed, else 404."""
    for member, standing in memberships_with_standing(person):
        if decide_for_standing(standing, action).allowed:
            return member, standing
    raise Http404


def _spouses(dossier) -> tuple[Member | None, Member | None]:
    """The file's current responsible person and current spouse."""
    members = Member.objects.current().filter(dossier=dossier, role__in=[Role.RESPONSABLE, Role.CONJOINT])
    members = list(members.select_related("person").order_by("id"))
    responsable = next((m for m in members if m.role == Role.RESPONSABLE), None)
    spouse = next((m for m in members if m.role == Role.CONJOINT), None)
    return responsable, spouse


def _has_account(person) -> bool:
    try:
        return person.account is not None
    except Account.DoesNotExist:
        return False


@require_GET
def household_view(request):
    person = request.user.person
    member, standing = _file_for(person, Action.SEE_HOUSEHOLD)
    dossier = member.dossier
    rows = [
        {"member": m, "has_account": _has_account(m.person), "is_me": m.person_id == person.pk}
        for m in Member.objects.current().filter(dossier=dossier).select_related("person__account").order_by("id")
    ]
    spouse = next((r["member"] for r in rows if r["member"].role == Role.CONJOINT), None)
    journal_record(
        action="household.view",
        actor_person=person,
        subject_person=person,
        dossier=dossier,
        session_key=request.session.session_key,
        client_address=client_address(request),
    )
    is_responsable = standing == Standing.RESPONSABLE
    context = {
        "dossier": dossier,
        "rows": rows,
        "spouse": spouse,
        "can_grant": is_responsable and spouse is not None and spouse.delegation_granted_at is None,
        "can_revoke": is_responsable and spouse is not None and spouse.delegation_granted_at is not None,
        "can_renounce": standing == Standing.SPOUSE_DELEGATED,
        "can_invite": decide_for_standing(standing, Action.INVITE_MEMBER).allowed,
        "can_separate": spouse is not None and decide_for_standing(standing, Action.DECLARE_SEPARATION).allowed,
    }
    return render(request, "web/household/index.html", context)


@require_http_methods(["GET", "POST"])
def delegation_view(request):
    person = request.user.person
    member, standing = _file_for(person, Action.MANAGE_DELEGATION)
    dossier = member.dossier
    _, spouse = _spouses(dossier)
    if spouse is None:
        raise Http404
    if standing == Standing.RESPONSABLE:
        intent = "retirer" if spouse.delegation_granted_at else "accorder"
        what = "revoke" if spouse.delegation_granted_at else "grant"
    else:  # a delegated spouse may only renounce
        intent, what = "retirer", "renounce"
    form = DelegationForm(request.POST or None, initial={"intent": intent})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            if form.cleaned_data["intent"] != intent:
                # The delegation changed since the page was shown (the other spouse acted).
                messages.warning(request, "L'autorisation de gestion a changé entre-temps. Vérifiez puis confirmez.")
                return redirect("web:household_delegation")
            service = delegation_grant if intent == "accorder" else delegation_revoke
            try:
                service(
                    actor_person=person,
                    dossier=dossier,
                    password=form.cleaned_data["password"],
                    actor_account=request.user,
                    session_key=request.session.session_key,
                    client_address=client_address(request),
                )
            except DelegationError as refused:
                field = "password" if refused.code in ("wrong_password", "throttled") else None
                form.add_error(field, refused.message)
                if refused.code == "throttled":
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
def separation_view(request):
    person = request.user.person
    member, standing = _file_for(person, Action.DECLARE_SEPARATION)
    dossier = member.dossier
    responsable, spouse = _spouses(dossier)
    if responsable is None or spouse is None:
        raise Http404
    other = spouse if member.role == Role.RESPONSABLE else responsable
    form = SeparationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            leaving = person if form.cleaned_data["leaving"] == "moi" else other.person
            try:
                separation_declare(
                    actor_person=person,
                    dossier=dossier,
                    separated_on=form.cleaned_data["separated_on"],
                    leaving_person=leaving,
                    new_address=form.new_address(),
                    session_key=request.session.session_key,
                    client_address=client_address(request),
                )
            except SeparationError as refused:
                form.add_error(refused.field if refused.field in form.fields else None, refused.message)
            else:
                messages.success(
                    request,
                    "Votre séparation est déclarée. L'ancien conjoint ou l'ancienne conjointe n'a plus accès au "
                    "dossier ; la Caf va étudier ce changement de situation.",
                )
                return redirect("web:home")
    return render(request, "web/household/separation.html", {"form": form}, status=status)
