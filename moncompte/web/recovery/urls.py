from django.urls import path

from moncompte.web.recovery import views

urlpatterns = [
    path("mot-de-passe-oublie/", views.reset_request_view, name="password_reset"),
    path("mot-de-passe-oublie/code/", views.reset_code_view, name="password_reset_code"),
    path("mot-de-passe-oublie/nouveau/", views.reset_password_view, name="password_reset_password"),
    path("mon-compte/mot-de-passe/", views.password_change_view, name="password_change"),
]
