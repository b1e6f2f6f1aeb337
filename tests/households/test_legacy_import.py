"""Import of the legacy files, members and old codes (moncompte.households.legacy_import).

Every test runs through the ORM path, and on PostgreSQL (CI) through the COPY path as well.
"""

import csv
import io
import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from moncompte.accounts.legacy import legacy_code_digest, legacy_code_matches
from moncompte.accounts.models import LegacyCredential
from moncompte.households.legacy_import import COLUMNS, LegacyImportError, legacy_import
from moncompte.households.models import Caf, Dossier, Member
from moncompte.identity.identifiers import new_provisional_identifier, nir_key, parse_identifier
from moncompte.identity.models import Person
from tests.support.services import require_postgresql, requires_postgresql


def with_key(body: str) -> str:
    return body + nir_key(body)


# Fictional people. Identifiers are written the ways legacy exports write them.
CLAIRE = with_key("2850575115042")
MARC = "1 83 11 69 383 117 " + nir_key("1831169383117")
LEA = "2.09.03.75.112.031." + nir_key("2090375112031")
SOFIA = with_key("290022A004021")
AMADOU = with_key("8175123456789")  # provisional number (NNP)
ALL_IDENTIFIERS = [CLAIRE, MARC, LEA, SOFIA, AMADOU]
CODE_A, CODE_B = "48213597", "90317264"


def row(**fields) -> list[str]:
    values = {
        "caf_code": "751",
        "numero_allocataire": "1234567",
        "code_confidentiel": CODE_A,
        "role": "responsable",
        "nir": CLAIRE,
        "prenoms": "Claire Anne",
        "nom_naissance": "Martin",
        "nom_usage": "",
        "date_naissance": "1985-05-14",
        "sexe": "F",
        "commune_naissance": "75115",
        "pays_naissance": "99100",
        "adresse": "12 rue des Lilas",
        "code_postal": "75020",
        "commune": "Paris",
    }
    values.update(fields)
    return [values[name] for name in COLUMNS]


def file_a() -> list[list[str]]:
    return [
        row(),
        row(role="conjoint", nir=MARC, prenoms="Marc", nom_naissance="MARTIN", date_naissance="02/11/1983", sexe="M"),
        row(role="enfant", nir=LEA, prenoms="Léa", nom_naissance="MARTIN", date_naissance="2009-03-21"),
    ]


def file_b() -> list[list[str]]:
    common = {
        "caf_code": "131",
        "numero_allocataire": "7654321",
        "code_confidentiel": CODE_B,
        "adresse": "4 boulevard de la Corderie",
        "code_postal": "13007",
        "commune": "Marseille",
    }
    return [
        row(
            **common,
            nir=SOFIA,
            prenoms="Sofia",
            nom_naissance="Benali",
            nom_usage="Diallo",
            date_naissance="1990-02-11",
        ),
        # Marc again, his NIR written without its key: the same person, reused.
        row(**common, role="autre", nir="1831169383117", prenoms="Marc", nom_naissance="MARTIN", sexe="M"),
        row(
            **common, role="conjoint", nir=AMADOU, prenoms="Amadou", nom_naissance="Diallo", sexe="M", pays_naissance=""
        ),
    ]


def write_csv(path, rows, header=COLUMNS):
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(params=["orm", "copy"])
def method(request):
    if request.param == "copy":
        require_postgresql("the COPY path")
    return request.param


@pytest.fixture
def cafs(db):
    Caf.objects.create(code="751", name="Caf de Paris", departement="75")
    Caf.objects.create(code="131", name="Caf des Bouches-du-Rhône", departement="13")


@pytest.fixture
def legacy_csv(tmp_path):
    return write_csv(tmp_path / "legacy.csv", file_a() + file_b())


def whole_database_text() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def assert_no_secret_in(text: str) -> None:
    compact = text.upper().replace(" ", "").replace(".", "")
    for raw in ALL_IDENTIFIERS:
        value = parse_identifier(raw).value
        assert value not in compact
        assert raw.upper() not in text.upper()
    for code in (CODE_A, CODE_B, "4821359", "123456789"):
        assert code not in text


def test_imports_files_members_roles_and_codes(cafs, legacy_csv, method):
    report = legacy_import(path=legacy_csv, method=method)

    assert report.ok and report.rejected == []
    assert (report.rows_read, report.files_imported, report.files_created) == (6, 2, 2)
    assert (report.members_imported, report.members_created) == (6, 6)
    assert (report.persons_created, report.persons_reused) == (5, 1)
    assert (report.codes_created, report.codes_replaced, report.cafs_created) == (2, 0, 0)

    dossier = Dossier.objects.get(caf__code="751", numero="1234567")
    assert (dossier.address_line1, dossier.postal_code, dossier.city) == ("12 rue des Lilas", "75020", "Paris")
    roles = {(m.person.first_names, m.role) for m in dossier.members.select_related("person")}
    assert roles == {("Claire Anne", "responsable"), ("Marc", "conjoint"), ("Léa", "enfant")}
    other = Dossier.objects.get(caf__code="131", numero="7654321")
    assert other.city == "Marseille"
    assert set(other.members.values_list("role", flat=True)) == {"responsable", "autre", "conjoint"}

    marc = Person.objects.with_identifier(parse_identifier(MARC).value).get()
    assert sorted(marc.memberships.values_list("role", flat=True)) == ["autre", "conjoint"]
    assert marc.identifier.value == "1831169383117"
    sofia = Person.objects.with_identifier(parse_identifier(SOFIA).value).get()
    assert (sofia.birth_name, sofia.usage_name, sofia.identifier_type) == ("BENALI", "DIALLO", "nir")
    assert sofia.identifier.display() == "2 90 02 2A 004 021 " + nir_key("290022A004021")
    amadou = Person.objects.with_identifier(parse_identifier(AMADOU).value).get()
    assert (amadou.identifier_type, amadou.birth_country_code) == ("nnp", "99100")
    lea = Person.objects.with_identifier(parse_identifier(LEA).value).get()
    assert str(lea.birth_date) == "2009-03-21"
    assert str(Person.objects.with_identifier("1831169383117").get().birth_date) == "1983-11-02"

    credential = LegacyCredential.objects.get(dossier=dossier)
    assert credential.code_digest == legacy_code_digest(CODE_A)
    assert legacy_code_matches(CODE_A, credential.code_digest)
    assert credential.retired_on_web_at is None
    assert LegacyCredential.objects.get(dossier=other).code_digest == legacy_code_digest(CODE_B)


def test_no_identifier_or_code_in_clear_anywhere(cafs, tmp_path, method, caplog):
    rows = [*file_a(), *file_b(), row(numero_allocataire="2345678", nir=CLAIRE[:-2] + "00")]
    path = write_csv(tmp_path / "legacy.csv", rows)
    out = io.StringIO()
    with caplog.at_level(logging.DEBUG), pytest.raises(CommandError):
        call_command("import_legacy", str(path), "--method", method, stdout=out)

    assert Person.objects.count() == 5
    assert_no_secret_in(whole_database_text())
    assert_no_secret_in(out.getvalue())
    assert_no_secret_in("\n".join(record.getMessage() for record in caplog.records))


def test_rejected_rows_are_reported_with_line_and_french_reason(cafs, tmp_path, method):
    rows = [
        *file_a(),  # lines 2-4
        row(numero_allocataire="2345678", nir=CLAIRE[:-2] + "00"),  # 5: wrong key
        row(numero_allocataire="345678"),  # 6: 6-digit numero
        row(numero_allocataire="4567890", code_confidentiel="4821359"),  # 7: 7-digit code...
        row(numero_allocataire="4567890", role="enfant", nir=LEA),  # 8: ...so the whole file is not imported
        row(caf_code="999", numero_allocataire="5678901"),  # 9: unknown Caf
        row(numero_allocataire="6789012", sexe="X"),  # 10
        row(numero_allocataire="7890123", date_naissance="31/02/1990"),  # 11
        row(numero_allocataire="8901234", role="parent"),  # 12
        row(numero_allocataire="9012345", role="enfant", nir=LEA),  # 13: no responsible person
        row(numero_allocataire="1111111", code_postal="7502"),  # 14
        row(numero_allocataire="2222222"),  # 15
        row(numero_allocataire="2222222", role="enfant", nir=LEA),  # 16
        row(numero_allocataire="2222222", role="enfant", nir=LEA),  # 17: twice in the file
        row(numero_allocataire="2222222", role="responsable", nir=MARC),  # 18: second responsable
        row(numero_allocataire="2222222", role="conjoint", nir=SOFIA),  # 19
        row(numero_allocataire="2222222", role="conjoint", nir=AMADOU),  # 20: second spouse
        row(numero_allocataire="3333333", nir=new_provisional_identifier().display()),  # 21: provisional
        row(numero_allocataire="3333334", nir="1 83 13 69 383 117"),  # 22: month 13
        row(numero_allocataire="3333335", prenoms=""),  # 23
    ]
    path = write_csv(tmp_path / "legacy.csv", rows)
    report = legacy_import(path=path, method=method)

    reasons = {rejected.line: rejected.reason for rejected in report.rejected}
    assert reasons == {
        5: "NIR invalide : la clé ne correspond pas au numéro",
        6: "numéro allocataire invalide : 7 chiffres attendus",
        7: "ancien code confidentiel invalide : 8 chiffres attendus",
        8: "dossier non importé : la ligne du responsable (ligne 7) est rejetée",
        9: "Caf inconnue (code 999)",
        10: "sexe invalide : F ou M attendu",
        11: "date de naissance invalide : AAAA-MM-JJ ou JJ/MM/AAAA attendu",
        12: "rôle inconnu : responsable, conjoint, enfant ou autre attendu",
        13: "dossier sans ligne responsable (les lignes d'un dossier doivent se suivre)",
        14: "code postal invalide : 5 chiffres attendus",
        17: "personne déjà présente dans ce dossier (ligne 16)",
        18: "second responsable du dossier (le responsable est ligne 15)",
        20: "second conjoint du dossier (le conjoint est ligne 19)",
        21: "NIR invalide : un identifiant provisoire n'est pas un numéro de l'ancien système",
        22: "NIR invalide : mois de naissance impossible",
        23: "prénoms manquants ou trop longs",
    }
    assert report.rejected_count == 16 and not report.ok
    assert [rejected.line for rejected in report.rejected] == sorted(reasons)
    assert str(report.rejected[0]) == "ligne 5 : NIR invalide : la clé ne correspond pas au numéro"
    # What is valid is imported all the same.
    assert report.files_imported == 2 and report.members_imported == 3 + 3
    assert set(Dossier.objects.values_list("numero", flat=True)) == {"1234567", "2222222"}
    assert not Caf.objects.filter(code="999").exists()


def test_import_twice_changes_nothing(cafs, legacy_csv, method):
    first = legacy_import(path=legacy_csv, method=method)
    tables = (Person, Dossier, Member, LegacyCredential)
    counts = [model.objects.count() for model in tables]
    digests = list(LegacyCredential.objects.order_by("pk").values_list("code_digest", flat=True))
    tokens = list(Person.objects.order_by("pk").values_list("identifier_encrypted", flat=True))

    again = legacy_import(path=legacy_csv, method=method)

    assert [model.objects.count() for model in tables] == counts == [5, 2, 6, 2]
    assert (again.files_imported, again.members_imported) == (first.files_imported, first.members_imported)
    assert (again.files_created, again.members_created, again.persons_created, again.codes_created) == (0, 0, 0, 0)
    assert (again.files_existing, again.members_existing, again.persons_reused, again.codes_kept) == (2, 6, 6, 2)
    assert list(LegacyCredential.objects.order_by("pk").values_list("code_digest", flat=True)) == digests
    # Existing persons are not encrypted again.
    assert list(Person.objects.order_by("pk").values_list("identifier_encrypted", flat=True)) == tokens


def test_codes_kept_unless_replaced_and_a_retired_code_stays_retired(cafs, tmp_path, method):
    legacy_import(path=write_csv(tmp_path / "v1.csv", file_a() + file_b()), method=method)
    retired_at = timezone.now()
    LegacyCredential.objects.filter(dossier__numero="1234567").update(retired_on_web_at=retired_at)
    new_codes = [r[:2] + ["11223344"] + r[3:] for r in file_a() + file_b()]
    path = write_csv(tmp_path / "v2.csv", new_codes)

    kept = legacy_import(path=path, method=method)
    assert (kept.codes_created, kept.codes_replaced, kept.codes_kept) == (0, 0, 2)
    assert LegacyCredential.objects.get(dossier__numero="7654321").code_digest == legacy_code_digest(CODE_B)

    replaced = legacy_import(path=path, method=method, replace_codes=True)
    assert (replaced.codes_created, replaced.codes_replaced, replaced.codes_kept) == (0, 1, 1)
    assert LegacyCredential.objects.get(dossier__numero="7654321").code_digest == legacy_code_digest("11223344")
    retired = LegacyCredential.objects.get(dossier__numero="1234567")
    assert retired.retired_on_web_at == retired_at
    assert retired.code_digest == legacy_code_digest(CODE_A)


def test_unknown_cafs_are_created_on_request(db, legacy_csv, method):
    rejected = legacy_import(path=legacy_csv, method=method)
    assert rejected.rejected_count == 6 and Dossier.objects.count() == 0
    assert {r.reason for r in rejected.rejected} == {"Caf inconnue (code 751)", "Caf inconnue (code 131)"}

    created = legacy_import(path=legacy_csv, method=method, create_cafs=True)
    assert created.ok and created.cafs_created == 2 and created.files_created == 2
    assert list(Caf.objects.values_list("code", "name", "departement")) == [
        ("131", "Caf 131", "13"),
        ("751", "Caf 751", "75"),
    ]


def test_overseas_caf_departement(db, tmp_path, method):
    path = write_csv(tmp_path / "legacy.csv", [row(caf_code="971", code_postal="97110", commune="Pointe-à-Pitre")])
    legacy_import(path=path, method=method, create_cafs=True)
    assert Caf.objects.get().departement == "971"


def test_rows_as_mappings_and_small_batches(cafs, method):
    rows = [dict(zip(COLUMNS, values, strict=True)) for values in file_a() + file_b()]
    rows[4]["nom_usage"] = None
    # A batch ends at a file boundary only: with batch_size=2 each file stays whole.
    report = legacy_import(rows=rows, method=method, batch_size=2)
    assert report.ok and (report.files_created, report.members_created, report.persons_created) == (2, 6, 5)
    assert Dossier.objects.get(numero="1234567").members.count() == 3


def test_csv_details(cafs, tmp_path, method):
    path = tmp_path / "legacy.csv"
    header = ";".join(COLUMNS)
    claire = ";".join(row(adresse='"Bât. A; esc. 2, 12 rue des Lilas"'))
    marc = ";".join(row(role="conjoint", nir=MARC, prenoms="Marc", sexe="M"))
    broken = ";".join(row(numero_allocataire="2222222", adresse='"12 rue'))
    lea = ";".join(row(numero_allocataire="3333333", nir=LEA, prenoms="Léa"))
    text = f'\ufeff{header.upper()}\r\n{claire}\r\n\r\n{marc}\r\n{broken}\r\ndes Lilas";x\n{lea};extra\n'
    path.write_text(text, encoding="utf-8")

    report = legacy_import(path=path, method=method)

    assert Dossier.objects.get(numero="1234567").address_line1 == "Bât. A; esc. 2, 12 rue des Lilas"
    assert Dossier.objects.get(numero="1234567").members.count() == 2
    assert [(r.line, r.reason) for r in report.rejected] == [
        (5, "ligne illisible (guillemets non fermés ou caractère interdit)"),
        (7, "16 colonnes au lieu de 15"),
    ]


def test_wrong_header_or_missing_file(db, tmp_path):
    path = write_csv(tmp_path / "legacy.csv", [row()], header=COLUMNS[:-1])
    with pytest.raises(LegacyImportError, match="En-tête invalide"):
        legacy_import(path=path)
    with pytest.raises(LegacyImportError, match="introuvable"):
        legacy_import(path=tmp_path / "absent.csv")
    assert Dossier.objects.count() == 0


def test_command_prints_the_report_and_exits_1_on_rejected_rows(cafs, tmp_path):
    good = write_csv(tmp_path / "good.csv", file_a())
    out = io.StringIO()
    call_command("import_legacy", str(good), "--batch-size", "100", stdout=out)
    assert "Dossiers importés : 1 (créés : 1, déjà présents : 0)" in out.getvalue()
    assert "Toutes les lignes ont été importées." in out.getvalue()

    bad = write_csv(tmp_path / "bad.csv", [row(numero_allocataire="123")])
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_legacy", str(bad), stdout=out)
    assert error.value.returncode == 1
    assert "ligne 2 : numéro allocataire invalide : 7 chiffres attendus" in out.getvalue()
    assert "Lignes rejetées : 1" in out.getvalue()

    with pytest.raises(CommandError) as error:
        call_command("import_legacy", str(tmp_path / "absent.csv"), stdout=io.StringIO())
    assert error.value.returncode == 1


@requires_postgresql("the parallel writers")
@pytest.mark.django_db(transaction=True)
def test_parallel_writers_give_the_same_result(tmp_path):
    Caf.objects.create(code="751", name="Caf de Paris", departement="75")
    rows = file_a() + file_b()
    for index in range(40):
        numero = f"{5000000 + index}"
        rows.append(row(numero_allocataire=numero, nir=MARC, prenoms="Marc", sexe="M"))
        rows.append(row(numero_allocataire=numero, role="enfant", nir=with_key(f"21001750{index + 10:02d}123")))
    path = write_csv(tmp_path / "legacy.csv", rows)

    report = legacy_import(path=path, workers=2, batch_size=7, create_cafs=True)
    again = legacy_import(path=path, workers=2, batch_size=7, replace_codes=True)

    assert report.ok and report.workers == 2
    assert (report.files_created, report.members_created, report.persons_created, report.cafs_created) == (
        42,
        86,
        45,
        1,
    )
    assert (again.files_created, again.members_created, again.persons_created, again.codes_replaced) == (0, 0, 0, 0)
    assert (Dossier.objects.count(), Member.objects.count(), Person.objects.count()) == (42, 86, 45)
    assert LegacyCredential.objects.count() == 42
    assert Person.objects.with_identifier(parse_identifier(MARC).value).get().memberships.count() == 42


def test_the_responsible_person_wins_over_an_earlier_duplicate_row(cafs, tmp_path, method):
    rows = [row(role="enfant", prenoms="Doublon"), row(), row(role="enfant", nir=LEA, prenoms="Léa")]
    report = legacy_import(path=write_csv(tmp_path / "legacy.csv", rows), method=method)

    assert [(r.line, r.reason) for r in report.rejected] == [(2, "personne déjà présente dans ce dossier (ligne 3)")]
    members = Dossier.objects.get().members.select_related("person").order_by("role")
    assert [(m.role, m.person.first_names) for m in members] == [("enfant", "Léa"), ("responsable", "Claire Anne")]


def test_the_copy_path_fills_every_column_of_the_tables_it_writes():
    # The COPY path writes these tables with SQL of its own: a new column must be handled there
    # (moncompte/households/legacy_import/writing.py, write_copy), then listed here.
    columns = {
        model._meta.db_table: {f.column for f in model._meta.concrete_fields}
        for model in (Person, Dossier, Member, LegacyCredential)
    }
    assert columns == {
        "identity_person": {
            "id",
            "identifier_type",
            "identifier_digest",
            "identifier_encrypted",
            "first_names",
            "birth_name",
            "usage_name",
            "birth_date",
            "sex",
            "birth_place_code",
            "birth_country_code",
            "created_at",
        },
        "households_dossier": {
            "id",
            "caf_id",
            "numero",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "created_at",
        },
        "households_member": {
            "id",
            "dossier_id",
            "person_id",
            "role",
            "delegation_granted_at",
            "joined_on",
            "ended_on",
        },
        "accounts_legacycredential": {"id", "dossier_id", "code_digest", "retired_on_web_at", "retired_on_phone_at"},
    }
