from django.urls import path

from moncompte.web.contacts import views

urlpatterns = [
    path("mon-compte/coordonnees/", views.contacts_view, name="contacts"),
    path("mon-compte/coordonnees/valider/", views.contact_validate_view, name="contact_validate"),
    path("mon-compte/coordonnees/<int:contact_id>/supprimer/", views.contact_remove_view, name="contact_remove"),
]
