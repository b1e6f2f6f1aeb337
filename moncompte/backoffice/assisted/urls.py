from django.urls import path

from moncompte.backoffice.assisted import views

urlpatterns = [
    path("accueil/<int:service_id>/premiere-connexion/", views.assisted_start_view, name="assisted_start"),
]
