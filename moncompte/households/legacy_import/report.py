"""What an import did, and the error of an input that cannot be imported at all."""

from __future__ import annotations

from dataclasses import dataclass, field

# The report lists at most this many rejected rows (all of them are counted).
MAX_REJECTED_LISTED = 100_000


class LegacyImportError(Exception):
    """The input cannot be imported at all (no header, wrong columns): nothing was written."""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.reason}"


@dataclass
class ImportReport:
    """What an import did. Counts only, line numbers and reasons: never an identifier or a code."""

    rows_read: int = 0
    files_imported: int = 0
    files_created: int = 0
    members_imported: int = 0
    members_created: int = 0
    persons_created: int = 0
    cafs_created: int = 0
    codes_created: int = 0
    codes_replaced: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    method: str = ""
    workers: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rejected_count == 0

    @property
    def files_existing(self) -> int:
        return self.files_imported - self.files_created

    @property
    def members_existing(self) -> int:
        """Members already there (or conflicting with the file's current members: left as they are)."""
        return self.members_imported - self.members_created

    @property
    def persons_reused(self) -> int:
        """Member rows whose person was already known (from the database or an earlier row)."""
        return self.members_imported - self.persons_created

    @property
    def codes_kept(self) -> int:
        """Files whose existing old code was left as it is (retired codes included)."""
        return self.files_imported - self.codes_created - self.codes_replaced

    def reject(self, line: int, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_LISTED:
            self.rejected.append(RejectedRow(line, reason))

    def merge(self, part: ImportReport) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.rejected.extend(part.rejected[: max(0, MAX_REJECTED_LISTED - len(self.rejected))])

    def summary_lines(self) -> list[str]:
        rate = self.members_imported / self.seconds if self.seconds else 0.0
        return [
            f"Lignes lues : {self.rows_read}",
            f"Dossiers importés : {self.files_imported} (créés : {self.files_created}, "
            f"déjà présents : {self.files_existing})",
            f"Membres importés : {self.members_imported} (créés : {self.members_created}, "
            f"déjà présents : {self.members_existing})",
            f"Personnes créées : {self.persons_created}, réutilisées : {self.persons_reused}",
            f"Anciens codes : créés {self.codes_created}, remplacés {self.codes_replaced}, conservés {self.codes_kept}",
            f"Caf créées : {self.cafs_created}",
            f"Lignes rejetées : {self.rejected_count}",
            f"Durée : {_decimal(self.seconds)} s ({_number(rate)} membres par seconde, méthode {self.method}, "
            f"{self.workers} processus d'écriture)",
        ]


_COUNTS = (
    "rows_read",
    "files_imported",
    "files_created",
    "members_imported",
    "members_created",
    "persons_created",
    "cafs_created",
    "codes_created",
    "codes_replaced",
    "rejected_count",
)


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def _decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")
