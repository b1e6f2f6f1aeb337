from django.urls import path

from moncompte.web.signin import views

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("deconnexion/", views.signout_view, name="signout"),
]
