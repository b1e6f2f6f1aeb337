"""Register a client of our OpenID provider (docs/api.md): the mobile app or a Caf service.

    manage.py oidc_client_create --name "Caf – Mon Compte" --redirect-uri fr.caf.moncompte:/connexion \
        --public --first-party
    manage.py oidc_client_create --name "Service X" --redirect-uri https://x.caf.fr/oidc/retour --confidential

Every client uses the authorization code flow with PKCE (S256) and gets RS256 id_tokens.
``--public``: an app that cannot keep a secret (the mobile app); ``--confidential``: a server,
whose secret is printed once here and stored only as its hash. ``--first-party``: a client of the
Caf itself, for which the person is not asked to consent. The client id is printed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import get_application_model

from moncompte.api.oidc.views import form_action_source


class Command(BaseCommand):
    help = "Enregistre un client du fournisseur d'identité (application mobile ou service de la Caf)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Nom du client, montré aux personnes.")
        parser.add_argument(
            "--redirect-uri",
            required=True,
            action="append",
            dest="redirect_uris",
            help="Adresse de retour (répétable).",
        )
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
            help="Adresse de retour après la déconnexion (répétable).",
        )
        kind = parser.add_mutually_exclusive_group(required=True)
        kind.add_argument("--public", action="store_true", help="Client public (application mobile) : sans secret.")
        kind.add_argument("--confidential", action="store_true", help="Client confidentiel (serveur) : avec un secret.")
        parser.add_argument(
            "--first-party", action="store_true", help="Client de la Caf : pas de demande de consentement."
        )
        parser.add_argument("--client-id", help="Identifiant du client (par défaut : tiré au hasard).")

    def handle(self, *args, **options):
        model = get_application_model()
        if options["client_id"] and model.objects.filter(client_id=options["client_id"]).exists():
            raise CommandError(f"Un client d'identifiant {options['client_id']} existe déjà.")
        secret = generate_client_secret() if options["confidential"] else ""
        application = model(
            name=options["name"],
            client_type=model.CLIENT_CONFIDENTIAL if options["confidential"] else model.CLIENT_PUBLIC,
            authorization_grant_type=model.GRANT_AUTHORIZATION_CODE,
            redirect_uris=" ".join(options["redirect_uris"]),
            post_logout_redirect_uris=" ".join(options["post_logout_redirect_uris"]),
            skip_authorization=options["first_party"],
            algorithm=model.RS256_ALGORITHM,
            client_secret=secret,
        )
        if options["client_id"]:
            application.client_id = options["client_id"]
        try:
            application.full_clean()
        except ValidationError as error:
            problems = "; ".join(f"{field} : {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(f"Client refusé : {problems}") from None
        with transaction.atomic():
            application.save()
        self.stdout.write(f"Client « {application.name} » créé.")
        self.stdout.write(f"client_id : {application.client_id}")
        if secret:
            self.stdout.write(f"client_secret (affiché cette seule fois, gardez-le en lieu sûr) : {secret}")
        # The sign-in form's answer ends with a redirect to the client: the browser checks
        # form-action on it (config/settings.py, MONCOMPTE_OIDC_REDIRECT_ORIGINS).
        listed = settings.MONCOMPTE_OIDC_REDIRECT_ORIGINS
        missing = {
            source
            for source in map(form_action_source, options["redirect_uris"])
            if source and source not in listed and f"{source.rpartition(':')[0]}:*" not in listed
        }
        for source in sorted(missing):
            self.stderr.write(
                f"À faire : ajoutez {source} à MONCOMPTE_OIDC_REDIRECT_ORIGINS, sinon le navigateur bloquera "
                "le retour vers ce client après la connexion."
            )
