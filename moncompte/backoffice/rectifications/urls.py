from django.urls import path

from moncompte.backoffice.rectifications import views

urlpatterns = [
    path("rectifications/", views.rectification_list_view, name="rectifications"),
    path("rectifications/<int:request_id>/", views.rectification_view, name="rectification"),
]
