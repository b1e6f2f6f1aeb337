from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "moncompte.procedures"
    label = "procedures"
    verbose_name = "Démarches"
