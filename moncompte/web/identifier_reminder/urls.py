from django.urls import path

from moncompte.web.identifier_reminder import views

urlpatterns = [
    path("identifiant-oublie/", views.identifier_reminder_view, name="identifier_reminder"),
]
