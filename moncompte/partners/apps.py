from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "moncompte.partners"
    label = "partners"
    verbose_name = "Partenaires"
