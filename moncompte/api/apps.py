from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "moncompte.api"
    label = "api"
    verbose_name = "API et fournisseur d'identité"
