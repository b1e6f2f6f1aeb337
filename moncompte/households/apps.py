from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "moncompte.households"
    label = "households"
