"""Imports the legacy system's files, members and old 8-digit codes from a CSV (docs/legacy-import.md).

Exit code 0 when every row was imported, 1 when some rows were rejected (listed with their line
number and reason) or when the file cannot be read at all.
"""

from django.core.management.base import BaseCommand, CommandError

from moncompte.households.legacy_import import DEFAULT_BATCH_SIZE, LegacyImportError, legacy_import


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError
    return number


class Command(BaseCommand):
    help = (
        "Importe les dossiers, membres et anciens codes confidentiels de l'ancien système depuis un "
        "fichier CSV (docs/legacy-import.md). Code de sortie 1 si des lignes sont rejetées."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="fichier CSV (UTF-8, séparateur « ; », une ligne par membre)")
        parser.add_argument(
            "--create-cafs",
            action="store_true",
            help="crée les Caf de codes inconnus (nommées « Caf <code> ») au lieu de rejeter leurs lignes",
        )
        parser.add_argument(
            "--replace-codes",
            action="store_true",
            help="remplace l'ancien code des dossiers déjà importés (un code retiré le reste)",
        )
        parser.add_argument(
            "--batch-size",
            type=_positive,
            default=DEFAULT_BATCH_SIZE,
            help=f"lignes par transaction, arrondi à la fin d'un dossier (défaut : {DEFAULT_BATCH_SIZE})",
        )
        parser.add_argument(
            "--workers",
            type=_non_negative,
            default=None,
            help=(
                "processus d'import, chacun avec sa connexion (analyse, empreintes, chiffrement, écriture) ; "
                "0 : aucun ; défaut : un par cœur pour les fichiers de 4 Mo ou plus"
            ),
        )
        parser.add_argument(
            "--method",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="écriture : copy (PostgreSQL, COPY et tables de transit) ou orm ; défaut : auto",
        )

    def handle(self, *args, **options):
        try:
            report = legacy_import(
                path=options["path"],
                batch_size=options["batch_size"],
                create_cafs=options["create_cafs"],
                replace_codes=options["replace_codes"],
                workers=options["workers"],
                method=options["method"],
            )
        except LegacyImportError as error:
            raise CommandError(str(error), returncode=1) from None
        for line in report.summary_lines():
            self.stdout.write(line)
        if report.ok:
            self.stdout.write(self.style.SUCCESS("Toutes les lignes ont été importées."))
            return
        for rejected in report.rejected:
            self.stdout.write(f"  {rejected}")
        if report.rejected_count > len(report.rejected):
            self.stdout.write(f"  … et {report.rejected_count - len(report.rejected)} autres lignes rejetées.")
        raise CommandError(f"{report.rejected_count} ligne(s) rejetée(s).", returncode=1)
