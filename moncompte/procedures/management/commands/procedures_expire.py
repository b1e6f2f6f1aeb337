from django.core.management.base import BaseCommand

from moncompte.procedures.expiry import drafts_remind_and_expire


class Command(BaseCommand):
    help = "Reminds the people whose drafts expire soon, and expires the drafts past their time (daily)."

    def handle(self, *args, **options):
        run = drafts_remind_and_expire()
        self.stdout.write(f"reminded {run.reminded}, expired {run.expired}")
