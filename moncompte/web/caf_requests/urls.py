from django.urls import path

from moncompte.web.caf_requests import views

urlpatterns = [
    path("mon-compte/demandes-de-la-caf/", views.caf_requests_view, name="caf_requests"),
    path("mon-compte/demandes-de-la-caf/<int:pk>/", views.caf_request_view, name="caf_request"),
    path(
        "mon-compte/demandes-de-la-caf/<int:pk>/fichiers/<int:attachment_id>/",
        views.caf_request_attachment_view,
        name="caf_request_attachment",
    ),
]
