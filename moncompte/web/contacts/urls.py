from django.urls import path

from moncompte.web.contacts import views

urlpatterns = [
    path("mon-compte/coordonnees/valider/", views.contact_validate_view, name="contact_validate"),
]
