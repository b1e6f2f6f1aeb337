"""Re-keys every stored identifier under the current HMAC and encryption keys.

Run after putting a new key first in MONCOMPTE_IDENTIFIER_HMAC_KEYS and/or
MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS (old keys kept after it); once it reports nothing left,
the old keys can be removed. Safe to run again or to interrupt: each batch is one transaction.

Every sealed identifier is re-keyed: the persons' identifiers, the former (provisional)
identifiers still told at sign-in, and the NIRs claimed at a sign-up, waiting for their
identity check (a claim sealed under a removed key could no longer be read nor bound).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from moncompte.identity.models import FormerIdentifier, IdentityCheck, Person
from moncompte.identity.protection import decrypt_identifier, identifier_digest, reencrypt_identifier

# (model, digest field, ciphertext field): every column pair that seals an identifier.
SEALED_IDENTIFIERS = (
    (Person, "identifier_digest", "identifier_encrypted"),
    (FormerIdentifier, "identifier_digest", "identifier_encrypted"),
    (IdentityCheck, "claimed_identifier_digest", "claimed_identifier_encrypted"),
)


def _rekey(model, digest_field: str, encrypted_field: str, batch_size: int) -> int:
    changed = 0
    last_id = 0
    while True:
        with transaction.atomic():
            batch = list(
                model.objects.select_for_update()
                .filter(id__gt=last_id)
                .exclude(**{encrypted_field: ""})
                .order_by("id")
                .only("id", digest_field, encrypted_field)[:batch_size]
            )
            if not batch:
                return changed
            to_update = []
            for row in batch:
                sealed = getattr(row, encrypted_field)
                digest, token = identifier_digest(decrypt_identifier(sealed)), reencrypt_identifier(sealed)
                if digest != getattr(row, digest_field) or token != sealed:
                    setattr(row, digest_field, digest)
                    setattr(row, encrypted_field, token)
                    to_update.append(row)
            model.objects.bulk_update(to_update, [digest_field, encrypted_field])
            changed += len(to_update)
            last_id = batch[-1].id


class Command(BaseCommand):
    help = "Re-computes identifier digests and ciphertexts under the current keys."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size: int, **options):
        changed = sum(_rekey(*sealed, batch_size) for sealed in SEALED_IDENTIFIERS)
        self.stdout.write(f"{changed} identifiers re-keyed.")
