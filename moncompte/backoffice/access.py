"""The console's gate: a signed-in agent with their second factor, and the permission a page needs.

Every console view is decorated with ``agent_required``: it is not one of the usagers' pages
(Django's LoginRequiredMiddleware lets it through), it needs a live agent session whose second
factor was given, and the agent's roles must allow ``permission`` (moncompte.access.agents),
else the page answers "not found", as a file the agent may not see does. A DomainError
``NotAllowed`` raised below answers 404 as well.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import redirect

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.core.errors import NotAllowed

EXPIRED_MESSAGE = "Votre session a expiré. Merci de vous connecter à nouveau."


def agent_required(permission: AgentPermission | None = None, *, second_factor: bool = True):
    def decorator(view):
        @login_not_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            session = request.agent_session
            if session is None or (second_factor and session.second_factor_at is None):
                if request.agent_session_end_reason:
                    messages.info(request, EXPIRED_MESSAGE)
                return redirect("backoffice:signin")
            if permission is not None and not agent_may(session.agent, permission):
                raise Http404
            try:
                return view(request, *args, **kwargs)
            except NotAllowed:
                raise Http404 from None

        return wrapped

    return decorator


def agent_public(view):
    """A console page for agents not signed in yet (sign-in, activation)."""
    return login_not_required(view)
