from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "moncompte.counter"
    label = "counter"
    verbose_name = "Accueil et téléphone"
