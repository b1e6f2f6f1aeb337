from django.urls import path

from moncompte.web.franceconnect import views

urlpatterns = [
    path("franceconnect/connexion/", views.start_view, name="franceconnect_start"),
    path("franceconnect/retour/", views.callback_view, name="franceconnect_callback"),
    path("franceconnect/confirmation/", views.confirm_view, name="franceconnect_confirm"),
    path("franceconnect/non-reconnu/", views.not_recognised_view, name="franceconnect_not_recognised"),
    path("franceconnect/mot-de-passe/", views.password_view, name="franceconnect_password"),
    path("franceconnect/deconnexion/retour/", views.logout_return_view, name="franceconnect_logout_return"),
]
