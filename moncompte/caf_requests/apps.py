from django.apps import AppConfig


class CafRequestsConfig(AppConfig):
    name = "moncompte.caf_requests"
    label = "caf_requests"
    verbose_name = "Demandes de la Caf"

    def ready(self):
        from moncompte.caf_requests import checks  # noqa: F401  (registers the virus scanner check)
