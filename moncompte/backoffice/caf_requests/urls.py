from django.urls import path

from moncompte.backoffice.caf_requests import views

urlpatterns = [
    path("demandes-caf/", views.caf_request_list_view, name="caf_requests"),
    path("demandes-caf/nouvelle/", views.caf_request_create_view, name="caf_request_create"),
    path("demandes-caf/<int:request_id>/", views.caf_request_view, name="caf_request"),
    path(
        "demandes-caf/<int:request_id>/pieces/<int:attachment_id>/",
        views.caf_request_attachment_view,
        name="caf_request_attachment",
    ),
]
