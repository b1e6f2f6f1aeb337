"""Our OpenID provider's addresses. Discovery and keys at the root (the issuer is the site itself),
the endpoints under /o/. The namespace is the toolkit's: its views find each other by these names.

No introspection endpoint: the API is served by this very site, which reads its tokens itself.
"""

from django.urls import path

from moncompte.api.oidc import views

app_name = "oauth2_provider"

urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="oidc-connect-discovery-info"),
    path(".well-known/oauth-authorization-server", views.server_metadata, name="oauth-server-metadata"),
    path(".well-known/jwks.json", views.jwks, name="jwks-info"),
    path("o/authorize/", views.authorization, name="authorize"),
    path("o/token/", views.token, name="token"),
    path("o/revoke_token/", views.revoke_token, name="revoke-token"),
    path("o/userinfo/", views.userinfo, name="user-info"),
    path("o/logout/", views.logout, name="rp-initiated-logout"),
]
