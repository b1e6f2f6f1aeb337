from django.urls import path

from moncompte.web.home import views

urlpatterns = [
    path("mon-compte/", views.home_view, name="home"),
]
