from django.urls import path

from moncompte.web.first_connection import views

urlpatterns = [
    path("premiere-connexion/", views.intro_view, name="first_connection"),
    path("premiere-connexion/dossier/", views.file_view, name="first_connection_file"),
    path("premiere-connexion/numero-securite-sociale/", views.nir_view, name="first_connection_nir"),
    path("premiere-connexion/mot-de-passe/", views.password_view, name="first_connection_password"),
]
