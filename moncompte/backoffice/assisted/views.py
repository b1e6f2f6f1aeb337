"""The agent's page of the assisted first connection (/agents/accueil/<id>/premiere-connexion/).

A POST starts it (moncompte.accounts.assisted) and the answer shows the handoff code, once:
it is in that response only, never in the agent's session, a URL or a later page. A GET shows
the state of the latest one for the service, which the agent reloads ("En attente", "Mot de
passe créé", "Moyen de contact validé"); nothing the person types ever reaches this page.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from moncompte.access.agents import AgentPermission
from moncompte.accounts.assisted import (
    AssistedError,
    assisted_first_connection_refusal,
    assisted_first_connection_start,
    assisted_first_connection_status,
)
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.actors import actor_of_agent


@agent_required(AgentPermission.ASSIST_FIRST_CONNECTION)
@require_http_methods(["GET", "POST"])
def assisted_start_view(request, service_id: int):
    actor = actor_of_agent(request)
    code = ""
    refusal = None
    status = 200
    if request.method == "POST":
        try:
            _, code = assisted_first_connection_start(actor=actor, service_id=service_id)
        except AssistedError as error:
            refusal = error
            status = error.status
    service, current = assisted_first_connection_status(actor=actor, service_id=service_id)
    done = current is not None and current.state in ("password_created", "contact_validated")
    if refusal is None and not done:
        refusal = assisted_first_connection_refusal(actor=actor, service_id=service_id)
    context = {
        "service": service,
        "person": service.person,
        "code": code,
        "current": current,
        "refusal": refusal.message if refusal is not None else "",
        # A new code may be given until the account exists (a lost code, an expired one).
        "may_start": refusal is None and not done,
        # Where the person goes on the counter's terminal or their own phone (typed, not a link).
        "claim_address": settings.MONCOMPTE_PUBLIC_URL + reverse("web:assisted_claim"),
        "expires_at": timezone.localtime(current.assisted.expires_at) if current is not None else None,
        "minutes": settings.MONCOMPTE_ASSISTED_MINUTES,
    }
    return render(request, "backoffice/assisted/start.html", context, status=status)
