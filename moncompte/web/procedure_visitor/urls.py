from django.urls import path

from moncompte.web.procedure_visitor import views

urlpatterns = [
    path("demarches/aide-au-logement/", views.public_view, name="procedure_public"),
    path("demarches/<slug:code>/commencer/", views.start_view, name="procedure_public_start"),
    path("mon-compte/demarches/reprendre/", views.claim_view, name="procedure_claim"),
]
