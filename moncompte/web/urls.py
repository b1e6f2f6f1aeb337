from django.urls import path

from moncompte.web import contact_views, first_connection_views, views

app_name = "web"

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("deconnexion/", views.signout_view, name="signout"),
    path("premiere-connexion/", first_connection_views.intro_view, name="first_connection"),
    path("premiere-connexion/dossier/", first_connection_views.file_view, name="first_connection_file"),
    path("premiere-connexion/numero-securite-sociale/", first_connection_views.nir_view, name="first_connection_nir"),
    path("premiere-connexion/mot-de-passe/", first_connection_views.password_view, name="first_connection_password"),
    path("mon-compte/", views.home_view, name="home"),
    path("mon-compte/coordonnees/valider/", contact_views.contact_validate_view, name="contact_validate"),
    path("mon-compte/appareils/", views.sessions_view, name="sessions"),
    path("mon-compte/appareils/<int:session_id>/fermer/", views.session_end_view, name="session_end"),
    path("mon-compte/appareils/fermer-tout/", views.sessions_end_all_view, name="sessions_end_all"),
]
