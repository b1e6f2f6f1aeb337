from django.urls import path

from moncompte.backoffice.identity_checks import views

urlpatterns = [
    path("verifications-identite/", views.queue_view, name="identity_checks"),
    path("verifications-identite/<int:check_id>/", views.check_view, name="identity_check"),
    path(
        "verifications-identite/<int:check_id>/documents/<int:document_id>/",
        views.document_view,
        name="identity_check_document",
    ),
    path("identifiants/", views.rekey_view, name="identifier_rekey"),
]
