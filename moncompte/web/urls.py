from django.urls import path

from moncompte.web import views

app_name = "web"

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("deconnexion/", views.signout_view, name="signout"),
    path("mon-compte/", views.home_view, name="home"),
]
