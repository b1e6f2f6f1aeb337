from django.core.management.base import BaseCommand

from moncompte.identity.protection import generate_encryption_key, generate_hmac_key


class Command(BaseCommand):
    help = "Prints new entries for MONCOMPTE_IDENTIFIER_HMAC_KEYS and MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("key_id", help="a name for the new keys, e.g. 2026-11")

    def handle(self, *args, key_id: str, **options):
        self.stdout.write(f"MONCOMPTE_IDENTIFIER_HMAC_KEYS entry:       {generate_hmac_key(key_id)}")
        self.stdout.write(f"MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS entry: {generate_encryption_key(key_id)}")
