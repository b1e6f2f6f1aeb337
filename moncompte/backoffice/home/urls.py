from django.urls import path

from moncompte.backoffice.home import views

urlpatterns = [
    path("", views.home_view, name="home"),
]
