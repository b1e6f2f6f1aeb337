"""Creates an agent of a Caf, without a password: prints their activation code, once.

    manage.py agent_create --caf 751 --email prenom.nom@caf.fr --first-names "Anne" \\
        --last-name "Durand" --role counter --role administrator

The agent activates their account at /agents/activation/ with this code: they choose their
password and enrol their authenticator app there. The command is the way to name the first
administrator of a Caf, and the national roles (the security team), which no administrator of a
Caf may give.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from moncompte.access.agents import AgentRole
from moncompte.agents.services import agent_create
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError
from moncompte.households.models import Caf


class Command(BaseCommand):
    help = (
        "Crée un agent d'une Caf, sans mot de passe, et affiche une seule fois son code d'activation, "
        "avec lequel il choisira son mot de passe et installera son application d'authentification."
    )

    def add_arguments(self, parser):
        parser.add_argument("--caf", required=True, help="code de la Caf (3 chiffres), par exemple 751")
        parser.add_argument("--email", required=True, help="adresse électronique professionnelle (identifiant)")
        parser.add_argument("--first-names", required=True, help="prénoms de l'agent")
        parser.add_argument("--last-name", required=True, help="nom de l'agent")
        parser.add_argument(
            "--role",
            dest="roles",
            action="append",
            required=True,
            choices=AgentRole.values,
            help="un rôle de l'agent (répéter l'option pour en donner plusieurs)",
        )

    def handle(self, *args, **options):
        caf = Caf.objects.filter(code=options["caf"]).first()
        if caf is None:
            raise CommandError(f"Aucune Caf n'a le code {options['caf']}.")
        try:
            agent, code = agent_create(
                actor=Actor.system(),
                caf=caf,
                email=options["email"],
                first_names=options["first_names"],
                last_name=options["last_name"],
                roles=options["roles"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        until = timezone.localtime(agent.activation_expires_at).strftime("%d/%m/%Y %H:%M")
        self.stdout.write(
            f"Agent créé : {agent.display_name} <{agent.email}>, {caf.name} ({', '.join(agent.role_labels)})."
        )
        self.stdout.write(f"Code d'activation (affiché une seule fois, valable jusqu'au {until}) : {code}")
        self.stdout.write(f"Page d'activation : {settings.MONCOMPTE_PUBLIC_URL}{reverse('backoffice:activate')}")
