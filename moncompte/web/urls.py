from django.urls import path

from moncompte.web import views

app_name = "web"

urlpatterns = [
    path("", views.root_view, name="root"),
    path("connexion/", views.signin_view, name="signin"),
    path("deconnexion/", views.signout_view, name="signout"),
    path("mon-compte/", views.home_view, name="home"),
    path("mon-compte/appareils/", views.sessions_view, name="sessions"),
    path("mon-compte/appareils/<int:session_id>/fermer/", views.session_end_view, name="session_end"),
    path("mon-compte/appareils/fermer-tout/", views.sessions_end_all_view, name="sessions_end_all"),
]
