"""Sets the roles of an agent, any role included: prints the roles after.

    manage.py agent_roles --email prenom.nom@caf.fr --role incident_officer --role counter

The roles given replace the agent's roles. The command line is the only way to give a role that
reaches every Caf (the security team's ``incident_officer``): no administrator of a Caf may give
it, nor change an agent holding it. Journaled with the system as the actor.
"""

from django.core.management.base import BaseCommand, CommandError

from moncompte.access.agents import AgentRole
from moncompte.agents.models import Agent
from moncompte.agents.services import agent_roles_change, normalise_email
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed


def agent_by_email(email: str) -> Agent:
    """The agent of ``email`` (any case), else a French CommandError."""
    agent = Agent.objects.select_related("caf").filter(email=normalise_email(email)).first()
    if agent is None:
        raise CommandError(f"Aucun agent n'a l'adresse électronique {normalise_email(email)}.")
    return agent


class Command(BaseCommand):
    help = (
        "Remplace les rôles d'un agent par ceux donnés, y compris les rôles nationaux (réponse aux incidents "
        "de sécurité), que seul cet outil peut attribuer, puis affiche ses rôles."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="adresse électronique professionnelle de l'agent")
        parser.add_argument(
            "--role",
            dest="roles",
            action="append",
            required=True,
            choices=AgentRole.values,
            help="un rôle de l'agent après la commande (répéter l'option pour en donner plusieurs)",
        )

    def handle(self, *args, **options):
        agent = agent_by_email(options["email"])
        before = ", ".join(agent.role_labels) or "aucun"
        try:
            agent = agent_roles_change(actor=Actor.system(), agent=agent, roles=options["roles"])
        except NotAllowed:
            raise CommandError("Cet agent ne peut pas être modifié.") from None
        except DomainError as error:
            raise CommandError(error.message) from None
        self.stdout.write(f"Agent : {agent.display_name} <{agent.email}>, {agent.caf.name}.")
        self.stdout.write(f"Rôles avant : {before}.")
        self.stdout.write(f"Rôles maintenant : {', '.join(agent.role_labels)}.")
        if not agent.is_active:
            self.stdout.write("Cet agent est désactivé : ses rôles ne lui donnent rien tant qu'il n'est pas réactivé.")
