import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect

from moncompte.accounts.sessions import session_closed, session_touched
from moncompte.accounts.signin import SESSION_AUTH_AT, SESSION_CONTACT_OK, SESSION_SEEN_AT

# Write the last-seen time at most this often, so that reading a page rarely writes a session.
_SEEN_RESOLUTION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Ends a session idle for too long, or older than the absolute limit, whatever its use."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = time.time()
            auth_at = request.session.get(SESSION_AUTH_AT, 0)
            seen_at = request.session.get(SESSION_SEEN_AT, 0)
            if (
                now - auth_at > settings.MONCOMPTE_SESSION_ABSOLUTE_SECONDS
                or now - seen_at > settings.MONCOMPTE_SESSION_IDLE_SECONDS
            ):
                session_closed(session_key=request.session.session_key, reason="expired")
                logout(request)
                messages.info(request, "Votre session a expiré. Merci de vous connecter à nouveau.")
                return redirect(settings.LOGIN_URL)
            if now - seen_at > _SEEN_RESOLUTION_SECONDS:
                request.session[SESSION_SEEN_AT] = now
                session_touched(session_key=request.session.session_key)
        return self.get_response(request)


def contact_not_required(view):
    """Marks a view a signed-in person may use before validating a contact (the validation itself)."""
    view.moncompte_contact_not_required = True
    return view


class VerifiedContactRequiredMiddleware:
    """An account is usable only once one contact channel is validated (PRODUCT.md section 1)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or request.session.get(SESSION_CONTACT_OK):
            return None
        if (
            getattr(view_func, "moncompte_contact_not_required", False)
            or getattr(view_func, "login_required", True) is False
        ):
            return None
        return redirect("web:contact_validate")
