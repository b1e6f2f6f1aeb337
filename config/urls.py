from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import include, path

from moncompte.core.cache import cache_health
from moncompte.partners.services import partner_health


@login_not_required
def healthz(request):
    """200 as long as the service answers. The cache is an accelerator: without it the service is
    degraded, not down, so its state is reported (``cache``: available, unavailable or local,
    with the breaker's counters: docs/operations.md) but never turns this answer into an error.
    One PING at most, bounded by the cache's timeouts; none while the breaker is open. The
    partners' breakers are reported the same way (no call made here)."""
    return JsonResponse({"status": "ok", **cache_health(), "partners": partner_health()})


urlpatterns = [
    path("healthz", healthz),
    # Development outbox: 404 unless DEBUG and not production (checked by the view).
    path("dev/messages/", include("moncompte.notifications.urls")),
    path("api/phone/v1/", include("moncompte.phone.urls")),
    path("", include("moncompte.api.urls")),
    path("agents/", include("moncompte.backoffice.urls")),
    path("", include("moncompte.web.urls")),
]

# JSON under /api/, the site's error pages elsewhere (moncompte.api.errors delegates to moncompte.web.errors).
handler404 = "moncompte.api.errors.not_found"
handler500 = "moncompte.api.errors.server_error"
handler400 = "moncompte.api.errors.bad_request"
handler403 = "moncompte.api.errors.forbidden"
