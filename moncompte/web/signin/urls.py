from django.urls import path

from moncompte.web.signin import views

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("connexion/code/", views.unlock_request_view, name="signin_unlock"),
    path("connexion/code/saisie/", views.unlock_code_view, name="signin_unlock_code"),
    path("deconnexion/", views.signout_view, name="signout"),
]
