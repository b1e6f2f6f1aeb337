from django.urls import path

from moncompte.web.assisted import views

urlpatterns = [
    path("premiere-connexion/accompagnee/", views.claim_view, name="assisted_claim"),
    path("premiere-connexion/accompagnee/mot-de-passe/", views.password_view, name="assisted_password"),
]
