import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.cache import patch_vary_headers

from moncompte.accounts.services import account_usable
from moncompte.accounts.sessions import session_touched
from moncompte.web.signin.session import SESSION_AUTH_AT, SESSION_SEEN_AT, close_web_session

PUBLIC_CACHEABLE_ATTR = "moncompte_public_cacheable"
# The REST API's addresses: its answers are JSON, never the site's pages.
API_PREFIX = "/api/"


def public_cacheable(view):
    """Marks a view whose answer holds nothing personal and may be kept by shared caches."""
    setattr(view, PUBLIC_CACHEABLE_ATTR, True)
    return view


class PersonalResponseHeadersMiddleware:
    """Every answer is private and never stored, unless its view is marked public_cacheable.

    Defence against the Steam (2015) and Klarna (2021) leaks: a cache in front of the service
    must never hand one person's page to another. Forced here, in one place, rather than
    trusted to each view.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "moncompte_public_cacheable", False) and not request.user.is_authenticated:
            return response
        response["Cache-Control"] = "private, no-store, max-age=0"
        response["Pragma"] = "no-cache"
        response["Expires"] = "0"
        patch_vary_headers(response, ("Cookie",))
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, PUBLIC_CACHEABLE_ATTR, False):
            request.moncompte_public_cacheable = True
        return None


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
                close_web_session(request, reason="expired")
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
    """The web's side of the domain rule ``account_usable``: until the account has a validated
    contact, a signed-in person is sent to the contact validation (PRODUCT.md section 1).

    Read from the account loaded for this request, never from a session flag: nothing can go
    stale and the API applies the very same rule.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated or account_usable(request.user):
            return None
        if (
            getattr(view_func, "moncompte_contact_not_required", False)
            or getattr(view_func, "login_required", True) is False
        ):
            return None
        return redirect("web:contact_validate")


class NotAllowedMiddleware:
    """A NotAllowed that a view lets through answers 404 (moncompte.web.errors.refusals_as_404
    does the same for one view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from moncompte.core.errors import NotAllowed
        from moncompte.web.errors import http404_for

        if isinstance(exception, NotAllowed):
            # Raised from here, the Http404 goes through the project's 404 handler.
            raise http404_for(exception) from None
        return None


class MethodNotAllowedPageMiddleware:
    """A 405 without a body (a GET of a POST-only address, from a bookmark or a reloaded page)
    gets the French error page instead of a blank one; its ``Allow`` header is kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            return response  # the API answers JSON, a 405 included (moncompte.api.errors)
        if response.status_code == 405 and not getattr(response, "streaming", False) and not response.content:
            from moncompte.web.errors import method_not_allowed_page

            response.content = method_not_allowed_page()
            response["Content-Type"] = "text/html; charset=utf-8"
            # CommonMiddleware (inside this one) already counted the empty body: a browser
            # would read 0 bytes of the page.
            response["Content-Length"] = str(len(response.content))
        return response
