from django.urls import path

from moncompte.web.household import views

urlpatterns = [
    path("mon-compte/foyer/", views.household_view, name="household"),
    path("mon-compte/foyer/autorisation/", views.delegation_view, name="household_delegation"),
    path("mon-compte/foyer/separation/", views.separation_view, name="household_separation"),
]
