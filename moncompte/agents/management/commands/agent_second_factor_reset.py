"""Resets the second factor of an agent: prints their new activation code, once.

    manage.py agent_second_factor_reset --email prenom.nom@caf.fr

For the agents no administrator may reset: a Caf's only administrator (nobody manages
themselves) and the holders of a national role. Their authenticator app and recovery codes are
deleted, every session of theirs ends, and with the new code they activate again at
/agents/activation/, password included. Journaled with the system as the actor.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from moncompte.agents.management.commands.agent_roles import agent_by_email
from moncompte.agents.services import agent_second_factor_reset
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Réinitialise le second facteur d'un agent (application d'authentification et codes de secours), "
        "ferme ses sessions et affiche une seule fois son nouveau code d'activation."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="adresse électronique professionnelle de l'agent")

    def handle(self, *args, **options):
        agent = agent_by_email(options["email"])
        try:
            code = agent_second_factor_reset(actor=Actor.system(), agent=agent)
        except DomainError as error:
            raise CommandError(error.message) from None
        agent.refresh_from_db()
        until = timezone.localtime(agent.activation_expires_at).strftime("%d/%m/%Y %H:%M")
        self.stdout.write(f"Second facteur réinitialisé : {agent.display_name} <{agent.email}>, {agent.caf.name}.")
        self.stdout.write(f"Code d'activation (affiché une seule fois, valable jusqu'au {until}) : {code}")
        self.stdout.write(f"Page d'activation : {settings.MONCOMPTE_PUBLIC_URL}{reverse('backoffice:activate')}")
