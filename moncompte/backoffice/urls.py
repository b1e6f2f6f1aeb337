"""The agents' console, under /agents/: one urls module per feature package, all in the
"backoffice" namespace (docs/agents.md)."""

from django.urls import include, path

app_name = "backoffice"

urlpatterns = [
    path("", include("moncompte.backoffice.signin.urls")),
    path("", include("moncompte.backoffice.home.urls")),
    path("", include("moncompte.backoffice.agents_admin.urls")),
    path("", include("moncompte.backoffice.counter.urls")),
    path("", include("moncompte.backoffice.assisted.urls")),
    path("", include("moncompte.backoffice.identity_checks.urls")),
    path("", include("moncompte.backoffice.rectifications.urls")),
    path("", include("moncompte.backoffice.separations.urls")),
    path("", include("moncompte.backoffice.caf_requests.urls")),
]
