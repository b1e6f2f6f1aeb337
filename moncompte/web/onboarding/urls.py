from django.urls import path

from moncompte.web.onboarding import views

urlpatterns = [
    path("mon-compte/bienvenue/", views.onboarding_view, name="onboarding"),
    path("mon-compte/bienvenue/<int:step>/", views.onboarding_view, name="onboarding_step"),
]
