"""The web channel's URLs: one urls module per feature package, all in the "web" namespace."""

from django.urls import include, path

app_name = "web"

urlpatterns = [
    path("", include("moncompte.web.signin.urls")),
    path("", include("moncompte.web.home.urls")),
    path("", include("moncompte.web.sessions.urls")),
    path("", include("moncompte.web.first_connection.urls")),
    path("", include("moncompte.web.assisted.urls")),  # ASSISTED
    path("", include("moncompte.web.recovery.urls")),
    path("", include("moncompte.web.signup.urls")),
    path("", include("moncompte.web.contacts.urls")),
    path("", include("moncompte.web.household.urls")),
    path("", include("moncompte.web.invitations.urls")),
    path("", include("moncompte.web.own_data.urls")),
    path("", include("moncompte.web.caf_requests.urls")),
    path("", include("moncompte.web.procedures.urls")),
    path("", include("moncompte.web.procedure_visitor.urls")),
    path("", include("moncompte.web.identifier_reminder.urls")),  # WAYSIN-B
    path("", include("moncompte.web.invitation_request.urls")),  # WAYSIN-B
    path("", include("moncompte.web.onboarding.urls")),
    path("", include("moncompte.web.franceconnect.urls")),  # FCCLIENT
    path("", include("moncompte.web.phone_code.urls")),  # TELEPHONY
    path("", include("moncompte.web.pages.urls")),
]
