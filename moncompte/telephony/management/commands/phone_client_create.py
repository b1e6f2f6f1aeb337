"""Register a client of the telephony API (/api/phone/v1/, docs/telephony.md).

    manage.py phone_client_create --name "Plateforme téléphonique de la Caf"

Prints the client id and its secret, once: only the secret's keyed hash is stored. The platform
sends them as HTTP Basic credentials (``client_id:secret``) with every request.
"""

from django.core.management.base import BaseCommand, CommandError

from moncompte.core.actors import Actor
from moncompte.telephony.services import telephony_client_create


class Command(BaseCommand):
    help = "Enregistre un client de l'API de la plateforme téléphonique et affiche son secret, une seule fois."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Nom du client (la plateforme téléphonique).")

    def handle(self, *args, **options):
        name = options["name"].strip()
        if not name or len(name) > 200:
            raise CommandError("Donnez un nom de 1 à 200 caractères.")
        client, secret = telephony_client_create(actor=Actor.system(), name=name)
        self.stdout.write(f"Identifiant du client : {client.client_id}")
        self.stdout.write(f"Secret (affiché une seule fois, à conserver dans la plateforme) : {secret}")
