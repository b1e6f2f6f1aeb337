from django.urls import path

from moncompte.web import (
    contact_views,
    first_connection_views,
    household_views,
    invitation_views,
    own_data_views,
    recovery_views,
    signup_views,
    views,
)

app_name = "web"

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("deconnexion/", views.signout_view, name="signout"),
    path("premiere-connexion/", first_connection_views.intro_view, name="first_connection"),
    path("premiere-connexion/dossier/", first_connection_views.file_view, name="first_connection_file"),
    path("premiere-connexion/numero-securite-sociale/", first_connection_views.nir_view, name="first_connection_nir"),
    path("premiere-connexion/mot-de-passe/", first_connection_views.password_view, name="first_connection_password"),
    # Password reset and change (moncompte.web.recovery_views).
    path("mot-de-passe-oublie/", recovery_views.reset_request_view, name="password_reset"),
    path("mot-de-passe-oublie/code/", recovery_views.reset_code_view, name="password_reset_code"),
    path("mot-de-passe-oublie/nouveau/", recovery_views.reset_password_view, name="password_reset_password"),
    path("mon-compte/mot-de-passe/", recovery_views.password_change_view, name="password_change"),
    # Account creation of new beneficiaries (moncompte.web.signup_views, docs/signup.md).
    path("creer-mon-compte/", signup_views.identity_view, name="signup"),
    path("creer-mon-compte/coordonnees/", signup_views.contact_view, name="signup_contact"),
    path("creer-mon-compte/mot-de-passe/", signup_views.password_view, name="signup_password"),
    path("creer-mon-compte/identifiant/", signup_views.provisional_view, name="signup_provisional"),
    path("creer-mon-compte/justificatif/", signup_views.document_view, name="signup_document"),
    path("creer-mon-compte/justificatif/envoye/", signup_views.document_done_view, name="signup_document_done"),
    path("mon-compte/", views.home_view, name="home"),
    path("mon-compte/coordonnees/valider/", contact_views.contact_validate_view, name="contact_validate"),
    path("mon-compte/appareils/", views.sessions_view, name="sessions"),
    path("mon-compte/appareils/<int:session_id>/fermer/", views.session_end_view, name="session_end"),
    path("mon-compte/appareils/fermer-tout/", views.sessions_end_all_view, name="sessions_end_all"),
    # The person's own data, rectification requests and exports (moncompte.web.own_data_views).
    path("mon-compte/mes-donnees/", own_data_views.own_data_view, name="own_data"),
    path("mon-compte/mes-donnees/rectification/", own_data_views.rectification_view, name="own_data_rectification"),
    path("mon-compte/mes-donnees/export.json", own_data_views.export_json_view, name="own_data_export_json"),
    path("mon-compte/mes-donnees/export/", own_data_views.export_html_view, name="own_data_export_html"),
    # Household page, delegation and separation (moncompte.web.household_views, docs/access.md).
    path("mon-compte/foyer/", household_views.household_view, name="household"),
    path("mon-compte/foyer/autorisation/", household_views.delegation_view, name="household_delegation"),
    path("mon-compte/foyer/separation/", household_views.separation_view, name="household_separation"),
    # Invitations of household members (moncompte.web.invitation_views, households/invitations.py).
    path("mon-compte/foyer/inviter/", invitation_views.invite_view, name="household_invite"),
    path("invitation/identite/", invitation_views.identity_view, name="invitation_identity"),
    path("invitation/mot-de-passe/", invitation_views.password_view, name="invitation_password"),
    path("invitation/<str:token>/", invitation_views.open_view, name="invitation_open"),
]
