from django.urls import path

from moncompte.web.signup import views

urlpatterns = [
    path("creer-mon-compte/", views.identity_view, name="signup"),
    path("creer-mon-compte/coordonnees/", views.contact_view, name="signup_contact"),
    path("creer-mon-compte/mot-de-passe/", views.password_view, name="signup_password"),
    path("creer-mon-compte/identifiant/", views.provisional_view, name="signup_provisional"),
    path("creer-mon-compte/justificatif/", views.document_view, name="signup_document"),
    path("creer-mon-compte/justificatif/envoye/", views.document_done_view, name="signup_document_done"),
]
