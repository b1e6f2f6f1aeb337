"""The legacy CSV format (docs/legacy-import.md): its columns and separator. Django-free, so
that the synthetic file generator (bench/legacy_csv.py) writes exactly what the import reads."""

COLUMNS = (
    "caf_code",
    "numero_allocataire",
    "code_confidentiel",
    "role",
    "nir",
    "prenoms",
    "nom_naissance",
    "nom_usage",
    "date_naissance",
    "sexe",
    "commune_naissance",
    "pays_naissance",
    "adresse",
    "code_postal",
    "commune",
)
DELIMITER = ";"
