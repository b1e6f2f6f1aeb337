from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "moncompte.agents"
    label = "agents"
    verbose_name = "Agents de la Caf"
