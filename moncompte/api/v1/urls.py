"""/api/v1/: one module per resource (me, file, delegation, procedures, caf_requests, sessions)."""

from django.urls import include, path  # noqa: F401

app_name = "api_v1"

urlpatterns: list = [
    # API-V1-URLS (each resource's URLs go here)
    # API-A-URLS: me and contacts, my files, the delegation, my sessions, the schema and its docs
    path("", include("moncompte.api.v1.me")),
    path("", include("moncompte.api.v1.files")),
    path("", include("moncompte.api.v1.delegation")),
    path("", include("moncompte.api.v1.sessions")),
    path("", include("moncompte.api.v1.schema")),
    # API-B-URLS: procedures and drafts, the Caf's requests and answers (each module's urlpatterns)
    path("", include("moncompte.api.v1.procedures")),
    path("", include("moncompte.api.v1.caf_requests")),
    path("", include("moncompte.api.v1.phone_code")),  # TELEPHONY
]
