"""The console's home: who is signed in, for which Caf, with which roles, and their sections."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from moncompte.agents.totp import recovery_codes_remaining
from moncompte.backoffice.access import agent_required
from moncompte.backoffice.context import agent_sections
from moncompte.backoffice.signin.views import FEW_RECOVERY_CODES


@agent_required()
@require_GET
def home_view(request):
    agent = request.agent_session.agent
    remaining = recovery_codes_remaining(agent)
    context = {
        "agent": agent,
        "sections": agent_sections(agent),
        "recovery_codes_left": remaining,
        "few_recovery_codes": remaining <= FEW_RECOVERY_CODES,
    }
    return render(request, "backoffice/home/home.html", context)
