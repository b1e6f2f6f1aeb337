"""``manage.py purge_expired [--dry-run]``: applies the retention durations (moncompte.core.retention).

Here rather than in core because a command needs an installed app; run daily (docs/operations.md).
"""

import logging

from django.core.management.base import BaseCommand

from moncompte.accounts.tokens import api_tokens_purge_expired
from moncompte.core.retention import purge_expired

logger = logging.getLogger("moncompte.retention")


class Command(BaseCommand):
    help = "Deletes the records kept past their retention duration (MONCOMPTE_RETENTION_*), in batches."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, delete nothing")

    def handle(self, *args, dry_run=False, **options):
        counts = purge_expired(dry_run=dry_run)
        if not dry_run:
            counts["api_tokens"] = api_tokens_purge_expired()
        verb = "would delete" if dry_run else "deleted"
        for name, count in counts.items():
            self.stdout.write(f"{name}: {verb} {count}")
        # Counts only, never a record: the log says the purge ran without holding what it purged.
        logger.info("retention purge (%s): %s", "dry run" if dry_run else "done", counts)
