"""The agents' session, apart from the usagers': its own cookie, scoped to /agents/.

A usager's session (Django's, cookie ``moncompte_session``) never opens the console, and an
agent's session never opens a usager's page: the agent's cookie is sent for /agents/ only and
read here only. ``request.agent_session`` is the live session (possibly still waiting for its
second factor) or None; ``request.agent_session_end_reason`` says why a cookie no longer works.
"""

from django.conf import settings

from moncompte.agents.sessions import agent_session_from_token

AGENTS_PREFIX = "/agents/"


class AgentSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.agent_session = None
        request.agent_session_end_reason = ""
        if request.path_info.startswith(AGENTS_PREFIX):
            token = request.COOKIES.get(settings.MONCOMPTE_AGENT_SESSION_COOKIE)
            request.agent_session, request.agent_session_end_reason = agent_session_from_token(token)
        return self.get_response(request)
