"""The toolkit's views as our provider serves them (docs/api.md).

- ``AuthorizationView``: the person signs in on our own page (/connexion/, LOGIN_URL, which
  brings them back here), must have a validated contact (else the contact validation, as on
  every page), then a first-party client (``skip_authorization``) goes straight back to its
  redirect URI and a third-party one gets the French consent page.
- ``TokenView``: the code exchange and the refresh; no other grant reaches the toolkit.
- ``LogoutView``: RP-initiated logout; it ends the app's sessions of the person (their tokens
  with them) and the web session, journaled, instead of the toolkit's deletion of every token.
- Requests that oauthlib cannot even decode (a malformed query string) answer 400, never 500.

The pages extend the site's base template; their templates are named moncompte_*.html because the
toolkit's app comes before ours in INSTALLED_APPS (its own templates would win).
"""

from __future__ import annotations

import functools
import logging
from urllib.parse import urlsplit

from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from oauth2_provider import views as toolkit
from oauth2_provider.exceptions import InvalidIDTokenError, InvalidOIDCClientError
from oauth2_provider.models import get_application_model

from moncompte.accounts.services import account_usable
from moncompte.accounts.signin import signout
from moncompte.api.oidc.sessions import api_sessions_ended, open_families_of
from moncompte.api.oidc.validators import GRANT_TYPES
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor, Channel
from moncompte.web.actors import actor_of, client_address

logger = logging.getLogger(__name__)

ERROR_TEMPLATE = "oauth2_provider/moncompte_error.html"


def form_action_source(uri: str | None) -> str | None:
    """The CSP source of a redirect URI: its origin, or its scheme for an app's own scheme
    ("fr.caf.moncompte:"). A form whose answer redirects there needs it in form-action."""
    if not uri:
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if not parts.scheme:
        return None
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"


def undecodable_as_400(*, page: bool):
    """oauthlib raises ValueError on a query string it cannot decode ("%zz"): a bad request, to
    answer 400 (a French page, or the protocol's JSON error), not a server error. The view's
    attributes (login_not_required, csrf_exempt) are kept by ``functools.wraps``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except ValueError as error:
                logger.warning("OAuth request refused as undecodable: %s", type(error).__name__)
                if page:
                    return render(request, ERROR_TEMPLATE, {"error": {"error": "invalid_request"}}, status=400)
                return JsonResponse({"error": "invalid_request", "error_description": "Malformed request."}, status=400)

        return wrapped

    return decorator


class AuthorizationView(toolkit.AuthorizationView):
    template_name = "oauth2_provider/moncompte_authorize.html"

    def get(self, request, *args, **kwargs):
        if not account_usable(request.user):
            return redirect("web:contact_validate")
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not account_usable(request.user):
            return redirect("web:contact_validate")
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        if not get_application_model().objects.filter(client_id=form.cleaned_data["client_id"]).exists():
            return self.form_invalid(form)
        return super().form_valid(form)

    def form_invalid(self, form):
        # The consent form came back without the request's parameters, or naming no client of
        # ours: nothing to authorize, and nowhere safe to send an error to.
        return render(self.request, ERROR_TEMPLATE, {"error": {"error": "invalid_request"}}, status=400)

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        # The consent form's answer redirects to the client: the browser checks form-action on it.
        source = None if context.get("error") else form_action_source(context.get("redirect_uri"))
        if source:
            response._csp_update = {"form-action": [source]}
        return response


class TokenView(toolkit.TokenView):
    def post(self, request, *args, **kwargs):
        if request.POST.get("grant_type") not in GRANT_TYPES:
            return JsonResponse(
                {"error": "unsupported_grant_type", "error_description": "Only authorization_code and refresh_token."},
                status=400,
            )
        return super().post(request, *args, **kwargs)


class LogoutView(toolkit.RPInitiatedLogoutView):
    template_name = "oauth2_provider/moncompte_logout.html"

    def get_request_application(self, id_token, client_id):
        if client_id:
            application = get_application_model().objects.filter(client_id=client_id).first()
            if application is None:
                raise InvalidOIDCClientError()
            return application
        return id_token.application if id_token else None

    def validate_logout_request_user(self, id_token_hint, client_id):
        try:
            return super().validate_logout_request_user(id_token_hint, client_id)
        except (ValueError, TypeError, KeyError):
            # A hint that is no id_token of ours, however malformed.
            raise InvalidIDTokenError() from None

    def do_logout(self, application=None, post_logout_redirect_uri=None, state=None, token_user=None):
        request = self.request
        signed_in = request.user.is_authenticated
        account = token_user or (request.user if signed_in else None)
        if account is not None and application is not None:
            api_sessions_ended(
                actor=Actor(channel=Channel.API, account=account, client_address=client_address(request)),
                token_families=open_families_of(account=account, application=application),
                reason="logout",
                action=JournalAction.OIDC_LOGOUT,
            )
        if signed_in:
            # The web session ends too (the provider's session): its record and the journal.
            signout(actor=actor_of(request))
        response = super().do_logout(application, post_logout_redirect_uri, state, token_user)
        if not post_logout_redirect_uri:
            return HttpResponseRedirect(reverse("web:signin") + "?deconnecte=1")
        return response

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        form = context.get("form")
        redirect_uri = form.initial.get("post_logout_redirect_uri") if form is not None else None
        source = None if context.get("error") else form_action_source(redirect_uri)
        if source:
            response._csp_update = {"form-action": [source]}
        return response


authorization = undecodable_as_400(page=True)(AuthorizationView.as_view())
token = undecodable_as_400(page=False)(TokenView.as_view())
revoke_token = undecodable_as_400(page=False)(toolkit.RevokeTokenView.as_view())
userinfo = undecodable_as_400(page=False)(toolkit.UserInfoView.as_view())
logout = undecodable_as_400(page=True)(LogoutView.as_view())
discovery = toolkit.ConnectDiscoveryInfoView.as_view()
server_metadata = toolkit.OAuthServerMetadataView.as_view()
jwks = toolkit.JwksInfoView.as_view()
