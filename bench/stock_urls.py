"""The project's pages plus Django's stock LoginView, for the benchmark's "stock" server."""

import time

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.urls import include, path

try:  # issue 7 moves the web session's markers to the web channel
    from moncompte.web.signin import session as ours
except ImportError:
    from moncompte.accounts import signin as ours


class StockLoginView(LoginView):
    """Django's LoginView (AuthenticationForm, ModelBackend, no throttling, no journal).

    The only addition: the session markers that the project's middleware requires (session
    limits and, where the code has it, a validated contact), without which the home page would
    sign the person out or send them elsewhere.
    """

    template_name = "bench/stock_login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        session, now = self.request.session, time.time()
        session[ours.SESSION_AUTH_AT] = now
        session[ours.SESSION_SEEN_AT] = now
        if hasattr(ours, "SESSION_CONTACT_OK"):
            session[ours.SESSION_CONTACT_OK] = form.get_user().contacts.filter(verified_at__isnull=False).exists()
        return response


urlpatterns = [
    path("bench/connexion-stock/", login_not_required(StockLoginView.as_view()), name="bench_stock_signin"),
    path("", include("config.urls")),
]

handler404 = "moncompte.web.errors.not_found"
handler500 = "moncompte.web.errors.server_error"
handler400 = "moncompte.web.errors.bad_request"
handler403 = "moncompte.web.errors.forbidden"
