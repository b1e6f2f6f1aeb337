from django.urls import path

from moncompte.backoffice.counter import views

urlpatterns = [
    path("accueil/", views.search_view, name="counter_search"),
    path("accueil/<int:service_id>/", views.service_view, name="counter_service"),
    path("accueil/<int:service_id>/identifier/", views.identify_view, name="counter_identify"),
    path("accueil/<int:service_id>/terminer/", views.close_view, name="counter_close"),
]
