from django.urls import path

from moncompte.backoffice.separations import views

urlpatterns = [
    path("separations/", views.separation_list_view, name="separations"),
    path("separations/<int:change_id>/", views.separation_view, name="separation"),
]
