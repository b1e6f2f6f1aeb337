from django.urls import path

from moncompte.web.own_data import views

urlpatterns = [
    path("mon-compte/mes-donnees/", views.own_data_view, name="own_data"),
    path("mon-compte/mes-donnees/rectification/", views.rectification_view, name="own_data_rectification"),
    path("mon-compte/mes-donnees/export.json", views.export_json_view, name="own_data_export_json"),
    path("mon-compte/mes-donnees/export/", views.export_html_view, name="own_data_export_html"),
]
