from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "moncompte.backoffice"
    label = "backoffice"
    verbose_name = "Console des agents"
