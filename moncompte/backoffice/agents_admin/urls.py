from django.urls import path

from moncompte.backoffice.agents_admin import views

urlpatterns = [
    path("gestion/", views.agents_view, name="agents"),
    path("gestion/nouvel-agent/", views.agent_create_view, name="agent_create"),
    path("gestion/<int:agent_id>/", views.agent_detail_view, name="agent_detail"),
    path("gestion/<int:agent_id>/roles/", views.agent_roles_view, name="agent_roles"),
    path("gestion/<int:agent_id>/desactivation/", views.agent_deactivate_view, name="agent_deactivate"),
    path("gestion/<int:agent_id>/reactiver/", views.agent_reactivate_view, name="agent_reactivate"),
    path(
        "gestion/<int:agent_id>/second-facteur/", views.agent_second_factor_reset_view, name="agent_second_factor_reset"
    ),
]
