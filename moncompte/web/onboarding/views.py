"""The first-connection screens (/mon-compte/bienvenue/, then /mon-compte/bienvenue/<n>/).

Four screens shown once per version after a sign-in (moncompte.accounts.onboarding decides when;
moncompte.web.signin.session sends the person here and keeps where they were going). Each
screen can be skipped; the last one and "Passer la présentation" lead to that target. Nothing
personal beyond the first name; what the person may do in their household (invite, the
delegation) is asked of the policy, never read from a role.
"""

from dataclasses import dataclass

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from moncompte.access.policy import Action, allowed_on_whole_file, is_spouse
from moncompte.households.selectors import current_memberships
from moncompte.identity.models import IdentifierType
from moncompte.web.actors import actor_of
from moncompte.web.signin.session import onboarding_target


@dataclass(frozen=True)
class Screen:
    title: str
    template: str


SCREENS = (
    Screen("Ce qui change pour vous connecter", "web/onboarding/changes.html"),
    Screen("Les membres de votre foyer peuvent avoir leur compte", "web/onboarding/household.html"),
    Screen("L'autorisation de gestion", "web/onboarding/delegation.html"),
    Screen("Besoin d'aide ?", "web/onboarding/help.html"),
)


def _screen_url(step: int) -> str:
    return reverse("web:onboarding") if step == 1 else reverse("web:onboarding_step", args=[step])


def _household(actor) -> dict:
    """What the person may do in their household, from the policy: invite its members, grant or
    renounce the delegation; whether they are a spouse (the delegation is about spouses)."""
    memberships = current_memberships(actor=actor)

    def may(action: Action) -> bool:
        return any(allowed_on_whole_file(m.standing, action) for m in memberships)

    return {
        "can_invite": may(Action.INVITE_MEMBER),
        "can_grant": may(Action.GRANT_DELEGATION),
        "can_renounce": may(Action.RENOUNCE_DELEGATION),
        "is_spouse": any(is_spouse(m.member) for m in memberships),
    }


@require_GET
def onboarding_view(request, step: int = 1):
    if not 1 <= step <= len(SCREENS):
        raise Http404
    screen = SCREENS[step - 1]
    actor = actor_of(request)
    person = actor.person
    context = {
        "screen": screen,
        "step": step,
        "step_count": len(SCREENS),
        "step_title": screen.title,
        "next_step_title": SCREENS[step].title if step < len(SCREENS) else "",
        "previous_url": _screen_url(step - 1) if step > 1 else "",
        "next_url": _screen_url(step + 1) if step < len(SCREENS) else "",
        "target": onboarding_target(request),
        "first_name": person.first_names.split()[0] if person.first_names else "",
        "provisional": person.identifier_type == IdentifierType.PROVISIONAL,
        **_household(actor),
    }
    return render(request, screen.template, context)
