"""Re-keys every stored identifier under the current HMAC and encryption keys.

Run after putting a new key first in MONCOMPTE_IDENTIFIER_HMAC_KEYS and/or
MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS (old keys kept after it); once it reports nothing left,
the old keys can be removed. Safe to run again or to interrupt: each batch is one transaction.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from moncompte.identity.models import Person
from moncompte.identity.protection import decrypt_identifier, identifier_digest, reencrypt_identifier


class Command(BaseCommand):
    help = "Re-computes identifier digests and ciphertexts under the current keys."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size: int, **options):
        changed = 0
        last_id = 0
        while True:
            with transaction.atomic():
                batch = list(
                    Person.objects.select_for_update()
                    .filter(id__gt=last_id)
                    .order_by("id")
                    .only("id", "identifier_digest", "identifier_encrypted")[:batch_size]
                )
                if not batch:
                    break
                to_update = []
                for person in batch:
                    value = decrypt_identifier(person.identifier_encrypted)
                    digest, token = identifier_digest(value), reencrypt_identifier(person.identifier_encrypted)
                    if digest != person.identifier_digest or token != person.identifier_encrypted:
                        person.identifier_digest, person.identifier_encrypted = digest, token
                        to_update.append(person)
                Person.objects.bulk_update(to_update, ["identifier_digest", "identifier_encrypted"])
                changed += len(to_update)
                last_id = batch[-1].id
        self.stdout.write(f"{changed} identifiers re-keyed.")
