"""The API channel's URLs: the REST API under /api/v1/ and our OpenID provider."""

from django.urls import include, path

urlpatterns = [
    path("api/v1/", include("moncompte.api.v1.urls")),
    # OIDC-PROVIDER-URLS (the provider's URLs go here: moncompte.api.oidc.urls)
    path("", include("moncompte.api.oidc.urls")),
]
