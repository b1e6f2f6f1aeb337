from django.urls import path, re_path

from moncompte.web.invitations import views

# No secret in a path or a query string: the invitation code is posted (docs/security.md, "Logs").
urlpatterns = [
    path("mon-compte/foyer/inviter/", views.invite_view, name="household_invite"),
    path("invitation/", views.invitation_view, name="invitation"),
    path("invitation/mot-de-passe/", views.password_view, name="invitation_password"),
    # The links of before carried a token here: answered "no longer valid", never read.
    re_path(r"^invitation/(?!mot-de-passe$)(?P<rest>.+)$", views.old_link_view, name="invitation_old_link"),
]
