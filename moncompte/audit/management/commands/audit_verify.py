from django.core.management.base import BaseCommand, CommandError

from moncompte.audit.services import journal_verify


class Command(BaseCommand):
    help = "Checks the journal's hash chain and names the first entry where it was broken."

    def handle(self, *args, **options):
        count = 0
        for entry_id, intact in journal_verify():
            if not intact:
                raise CommandError(f"Journal broken at entry {entry_id} (after {count} intact entries).")
            count += 1
        self.stdout.write(f"Journal intact: {count} entries.")
