from django.urls import path

from moncompte.web.procedures import views

urlpatterns = [
    path("mon-compte/demarches/", views.procedures_view, name="procedures"),
    path("mon-compte/demarches/commencer/<slug:code>/", views.procedure_start_view, name="procedure_start"),
    path("mon-compte/demarches/<int:pk>/", views.procedure_view, name="procedure"),
    path("mon-compte/demarches/<int:pk>/recapitulatif/", views.procedure_summary_view, name="procedure_summary"),
    path(
        "mon-compte/demarches/<int:pk>/accuse-de-reception/",
        views.procedure_receipt_view,
        name="procedure_receipt",
    ),
    path(
        "mon-compte/demarches/<int:pk>/accuse-de-reception.pdf",
        views.procedure_receipt_pdf_view,
        name="procedure_receipt_pdf",
    ),
    path("mon-compte/demarches/<int:pk>/abandonner/", views.procedure_cancel_view, name="procedure_cancel"),
    path("mon-compte/demarches/<int:pk>/<slug:step>/", views.procedure_step_view, name="procedure_step"),
]
