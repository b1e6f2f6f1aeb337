"""Creates a request of the Caf on a file (docs/caf-requests.md), until the agents' console does.

    manage.py caf_request_create --caf 751 --numero 1234567 --household \\
        --kind document --title "Justificatif de domicile" --body "..." --due 2026-12-31

The addressee is the household (``--household``) or one current member, chosen by their role in
the file (``--member-role``, with ``--first-name`` when several members share it): never by an
identifier, so that no NIR is typed on a command line (nor kept in a shell's history).
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from moncompte.caf_requests.models import CafRequest
from moncompte.caf_requests.services import CafRequestError, caf_request_create
from moncompte.core.actors import Actor
from moncompte.households.models import Dossier, Member, Role
from moncompte.identity.normalise import first_name_key


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(value) from None


class Command(BaseCommand):
    help = (
        "Adresse une demande de la Caf (document ou information à fournir, avec une date limite) au foyer "
        "d'un dossier ou à l'un de ses membres ; les personnes qui peuvent y répondre reçoivent un message."
    )

    def add_arguments(self, parser):
        parser.add_argument("--caf", required=True, help="code de la Caf (3 chiffres), par exemple 751")
        parser.add_argument("--numero", required=True, help="numéro allocataire du dossier (7 chiffres)")
        addressee = parser.add_mutually_exclusive_group(required=True)
        addressee.add_argument("--household", action="store_true", help="la demande est adressée au foyer")
        addressee.add_argument(
            "--member-role",
            choices=Role.values,
            help="la demande est adressée personnellement au membre actuel de ce rôle",
        )
        parser.add_argument(
            "--first-name", default="", help="prénom du membre, quand plusieurs membres ont ce rôle (enfants)"
        )
        parser.add_argument("--kind", required=True, choices=CafRequest.Kind.values, help="document ou information")
        parser.add_argument("--title", required=True, help="objet de la demande (200 caractères au plus)")
        parser.add_argument("--body", required=True, help="texte de la demande")
        parser.add_argument("--due", required=True, type=_date, help="date limite de réponse, AAAA-MM-JJ")
        parser.add_argument(
            "--from", dest="created_by", default="", help="qui demande (par défaut : le nom de la Caf du dossier)"
        )

    def _addressee(self, dossier: Dossier, role: str, first_name: str):
        members = list(
            Member.objects.current().filter(dossier=dossier, role=role).select_related("person").order_by("id")
        )
        if first_name:
            wanted = first_name_key(first_name)
            members = [m for m in members if first_name_key(m.person.first_names) == wanted]
        if not members:
            raise CommandError(f"Aucun membre actuel du dossier n'a le rôle « {Role(role).label} » et ce prénom.")
        if len(members) > 1:
            raise CommandError(
                f"{len(members)} membres actuels ont le rôle « {Role(role).label} » : précisez --first-name."
            )
        return members[0].person

    def handle(self, *args, **options):
        dossier = (
            Dossier.objects.select_related("caf").filter(caf__code=options["caf"], numero=options["numero"]).first()
        )
        if dossier is None:
            raise CommandError(f"Aucun dossier n° {options['numero']} à la Caf {options['caf']}.")
        addressed_to = None
        if options["member_role"]:
            addressed_to = self._addressee(dossier, options["member_role"], options["first_name"].strip())
        try:
            request = caf_request_create(
                actor=Actor.system(),
                dossier=dossier,
                addressed_to=addressed_to,
                kind=options["kind"],
                title=options["title"],
                body=options["body"],
                due_on=options["due"],
                created_by_label=options["created_by"].strip() or None,
            )
        except CafRequestError as error:
            raise CommandError(error.message) from None
        to = "au foyer" if addressed_to is None else f"au membre de rôle « {Role(options['member_role']).label} »"
        self.stdout.write(
            f"Demande n° {request.pk} créée sur le dossier {dossier.numero} ({dossier.caf.name}), adressée {to}, "
            f"à rendre avant le {request.due_on:%d/%m/%Y}."
        )
