from django.urls import path

from moncompte.web import contact_views, first_connection_views, recovery_views, signup_views, views

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
]
