from django.urls import path

from moncompte.web.sessions import views

urlpatterns = [
    path("mon-compte/appareils/", views.sessions_view, name="sessions"),
    path("mon-compte/appareils/<int:session_id>/fermer/", views.session_end_view, name="session_end"),
    path("mon-compte/appareils/fermer-tout/", views.sessions_end_all_view, name="sessions_end_all"),
]
