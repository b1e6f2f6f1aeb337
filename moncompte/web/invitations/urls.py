from django.urls import path

from moncompte.web.invitations import views

urlpatterns = [
    path("mon-compte/foyer/inviter/", views.invite_view, name="household_invite"),
    path("invitation/identite/", views.identity_view, name="invitation_identity"),
    path("invitation/mot-de-passe/", views.password_view, name="invitation_password"),
    path("invitation/<str:token>/", views.open_view, name="invitation_open"),
]
