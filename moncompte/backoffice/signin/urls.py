from django.urls import path

from moncompte.backoffice.signin import views

urlpatterns = [
    path("connexion/", views.signin_view, name="signin"),
    path("connexion/code/", views.second_factor_view, name="second_factor"),
    path("connexion/code-de-secours/", views.recovery_code_view, name="recovery_code"),
    path("deconnexion/", views.signout_view, name="signout"),
    path("activation/", views.activate_view, name="activate"),
    path("codes-de-secours/", views.recovery_codes_view, name="recovery_codes"),
    path("mot-de-passe/", views.password_change_view, name="password_change"),
]
