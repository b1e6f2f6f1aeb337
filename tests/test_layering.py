"""The layering check: the policy alone compares roles and standings; only channels import the web.

Two halves, both part of `make test` (and `make lint` runs the import contracts as well):

- an AST check over moncompte/: no comparison of a role or a standing outside moncompte/access/
  (``member.role == Role.CONJOINT``, ``standing in {Standing.SPOUSE}``, ``m.role != "responsable"``,
  a table keyed by ``Role.X``, ``.filter(role=Role.X)``, ``case Role.X``), except in the
  ALLOWED files, each with its reason;
- the import-linter contracts of pyproject.toml (``lint-imports``), shown here to fail on a
  synthetic package whose domain module imports the web channel or django.http.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "moncompte"
POLICY_PACKAGE = PACKAGE / "access"
# The channels: they may import moncompte.web and moncompte.api; every other top-level module of
# moncompte is a domain module and must be a source of each import contract.
CHANNELS = {"web", "api", "backoffice", "phone"}

ENUMS = {"Role", "Standing"}
# The values of Role and Standing (moncompte.households.models, moncompte.access.policy).
ROLE_AND_STANDING_VALUES = {
    "responsable",
    "conjoint",
    "enfant",
    "autre",
    "conjoint_autorise",
    "membre",
    "ancien_conjoint",
    "aucun",
}
ROLE_NAMES = {"role", "standing"}
QUERY_CALLS = {"filter", "exclude", "get", "Q", "get_or_create", "update_or_create"}

# (file, reason): places that may compare roles, because they decide nothing about access.
ALLOWED: dict[str, str] = {
    "moncompte/households/models.py": (
        "the Role choices and the database constraint of one current responsible person per file"
    ),
    "moncompte/households/management/commands/load_demo.py": "the demo loader writes the demo's households",
    "moncompte/households/legacy_import/parsing.py": (
        "validates an imported file's structure (one responsible person, one spouse); grants nothing"
    ),
    "moncompte/households/legacy_import/writing.py": (
        "adds no second current responsible person to a file, as the database constraint requires"
    ),
}

# Being removed in issue 7: the refactor moves these decisions into moncompte/access/. The lead
# empties this list at the end; a file leaves it as soon as it asks the policy instead.
PENDING: dict[str, str] = {}


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _is_member(node: ast.AST) -> bool:
    """``Role.X`` / ``Standing.X`` (or ``models.Role.X``), possibly followed by ``.value``."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    if not (isinstance(node, ast.Attribute) and node.attr.isupper()):
        return False
    owner = node.value
    return (isinstance(owner, ast.Name) and owner.id in ENUMS) or (
        isinstance(owner, ast.Attribute) and owner.attr in ENUMS
    )


def _items(node: ast.AST) -> list[ast.AST]:
    """The node, or the elements of a literal collection (also ``set([...])``, ``frozenset(...)``)."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [item for element in node.elts for item in _items(element)]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in {"set", "frozenset", "tuple", "list"}
        and node.args
    ):
        return _items(node.args[0])
    return [node]


def _mentions_member(node: ast.AST) -> bool:
    return any(_is_member(item) for item in _items(node))


def _is_role_value(node: ast.AST) -> bool:
    items = _items(node)
    return bool(items) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value in ROLE_AND_STANDING_VALUES
        for item in items
    )


def _is_role_attribute(node: ast.AST) -> bool:
    """``x.role``, ``x.standing``, ``role``, ``x["role"]``, ``x.get("role")``, ``spouse_role``."""

    def role_like(name: str) -> bool:
        return name in ROLE_NAMES or name.endswith(("_role", "_standing"))

    if isinstance(node, ast.Attribute):
        return role_like(node.attr)
    if isinstance(node, ast.Name):
        return role_like(node.id)
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and role_like(key.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args:
        key = node.args[0]
        return isinstance(key, ast.Constant) and isinstance(key.value, str) and role_like(key.value)
    return False


def _is_role_keyword(name: str | None) -> bool:
    if not name:
        return False
    parts = name.split("__")
    while parts and parts[-1] in {"in", "exact", "iexact"}:
        parts.pop()
    return bool(parts) and parts[-1] in ROLE_NAMES


def find_role_comparisons(source: str, path: str = "<source>") -> list[Violation]:
    """Every comparison of a role or a standing in ``source`` (a module's text)."""
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_mentions_member(operand) for operand in operands):
                found.append(Violation(path, node.lineno, "compares a Role/Standing member"))
            elif any(_is_role_attribute(o) for o in operands) and any(_is_role_value(o) for o in operands):
                found.append(Violation(path, node.lineno, "compares a role/standing with its value as a string"))
        elif isinstance(node, ast.Dict):
            if any(key is not None and _is_member(key) for key in node.keys):
                found.append(Violation(path, node.lineno, "a table keyed by Role/Standing members"))
        elif isinstance(node, ast.match_case):
            if any(isinstance(p, ast.MatchValue) and _is_member(p.value) for p in ast.walk(node.pattern)):
                found.append(Violation(path, node.pattern.lineno, "a case on a Role/Standing member"))
        elif isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in QUERY_CALLS:
                for keyword in node.keywords:
                    if _is_role_keyword(keyword.arg) and (
                        _mentions_member(keyword.value) or _is_role_value(keyword.value)
                    ):
                        found.append(Violation(path, node.lineno, f"a query on {keyword.arg}"))
    return found


def domain_files() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and not path.is_relative_to(POLICY_PACKAGE)
    )


def repository_violations() -> dict[str, list[Violation]]:
    by_file: dict[str, list[Violation]] = {}
    for path in domain_files():
        relative = path.relative_to(ROOT).as_posix()
        found = find_role_comparisons(path.read_text(encoding="utf-8"), relative)
        if found:
            by_file[relative] = found
    return by_file


# --- The AST check ---------------------------------------------------------------------------


def test_no_role_or_standing_is_compared_outside_the_policy():
    offenders = {path: found for path, found in repository_violations().items() if path not in ALLOWED | PENDING}
    listed = "\n".join(str(violation) for found in offenders.values() for violation in found)
    assert not offenders, (
        "Roles and standings are compared in moncompte/access/ only: ask the policy (decide, "
        f"decide_for_standing, the scoped reads) instead of:\n{listed}"
    )


def test_every_allowed_place_exists_and_says_why():
    for path, reason in (ALLOWED | PENDING).items():
        assert (ROOT / path).is_file(), f"{path} is listed but does not exist"
        assert reason.strip(), f"{path} is listed without a reason"


SYNTHETIC_VIOLATIONS = [
    ("if member.role == Role.RESPONSABLE:\n    pass\n", "compares a Role/Standing member"),
    ("ok = Role.CONJOINT != membership.role\n", "compares a Role/Standing member"),
    ("ok = standing in {Standing.SPOUSE_DELEGATED, Standing.RESPONSABLE}\n", "compares a Role/Standing member"),
    ("ok = m.role not in (models.Role.ENFANT, models.Role.AUTRE)\n", "compares a Role/Standing member"),
    ("ok = standing.value == Standing.SPOUSE.value\n", "compares a Role/Standing member"),
    ("ok = member.role == 'responsable'\n", "compares a role/standing with its value as a string"),
    ("ok = row['role'] in ('conjoint', 'responsable')\n", "compares a role/standing with its value as a string"),
    ("MAY = {Role.RESPONSABLE: True, Role.CONJOINT: False}\n", "a table keyed by Role/Standing members"),
    ("qs = Member.objects.filter(role=Role.RESPONSABLE)\n", "a query on role"),
    ("qs = Member.objects.exclude(members__role__in=['enfant'])\n", "a query on members__role__in"),
    ("match m.role:\n    case Role.CONJOINT:\n        pass\n", "a case on a Role/Standing member"),
]


@pytest.mark.parametrize(("source", "what"), SYNTHETIC_VIOLATIONS)
def test_the_check_catches_a_synthetic_violation(source, what):
    found = find_role_comparisons(source, "moncompte/households/synthetic.py")
    assert [violation.what for violation in found] == [what]


def test_the_check_lets_through_what_decides_nothing():
    source = (
        "choices = Role.choices\n"
        "member = Member(dossier=d, person=p, role=Role.ENFANT)\n"
        "allowed = decide(actor=actor, action=Action.SEE_DOSSIER, dossier=dossier)\n"
        "label = Role(member.role).label\n"
        "same = first.person_id == second.person_id\n"
        "word = name == 'conjoint'\n"  # not a role attribute: a text that happens to be a role's value
    )
    assert find_role_comparisons(source) == []


def test_a_synthetic_offender_in_the_tree_fails_the_repository_check(tmp_path, monkeypatch):
    """The repository-wide test itself fails on a new offending file (not only the checker)."""
    tree = tmp_path / "moncompte"
    (tree / "access").mkdir(parents=True)
    (tree / "access" / "policy.py").write_text("ok = standing == Standing.RESPONSABLE\n")  # the policy may
    (tree / "households").mkdir()
    (tree / "households" / "views.py").write_text("if member.role == Role.CONJOINT:\n    pass\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tree)
    monkeypatch.setattr(sys.modules[__name__], "POLICY_PACKAGE", tree / "access")
    with pytest.raises(AssertionError, match=r"moncompte/households/views.py:1: compares a Role/Standing member"):
        test_no_role_or_standing_is_compared_outside_the_policy()


# --- The import contracts (pyproject.toml, lint-imports) ------------------------------------------


def _contracts() -> list[dict]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["importlinter"]["contracts"]


def _top_level_modules() -> set[str]:
    names = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    names |= {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    return names


def test_every_domain_module_is_a_source_of_the_channel_contracts():
    domain = {f"moncompte.{name}" for name in _top_level_modules() - CHANNELS}
    contracts = [c for c in _contracts() if {"moncompte.web", "django.http"} & set(c["forbidden_modules"])]
    assert len(contracts) == 2
    for contract in contracts:
        assert set(contract["source_modules"]) == domain, f"a new app must be listed in: {contract['name']}"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).with_name("lint-imports")
    if not executable.exists():
        executable = shutil.which("lint-imports")
    assert executable, "lint-imports is not installed (requirements-dev.txt: import-linter)"
    return subprocess.run(
        [str(executable), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def synthetic_tree(tmp_path) -> Path:
    """A package named moncompte with every top-level module of ours, empty, and our contracts."""
    tree = tmp_path / "tree"
    package = tree / "moncompte"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in _top_level_modules():
        if (PACKAGE / name).is_dir():
            (package / name).mkdir()
            (package / name / "__init__.py").write_text("")
        else:
            (package / f"{name}.py").write_text("")
    (package / "web" / "views.py").write_text("")
    # As the real one (the ignored imports of the contract must match something).
    (package / "notifications" / "views.py").write_text(
        "from django.http import Http404\nfrom django.shortcuts import render\n"
    )
    (package / "notifications" / "urls.py").write_text("")
    (tree / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return tree


def test_the_import_contracts_hold_on_a_clean_synthetic_tree(synthetic_tree):
    done = _lint_imports(synthetic_tree)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        (
            "households/invitations.py",
            "from moncompte.web import views\n",
            "Only the channels import the channels (web, API, agents' console, telephony API)",
        ),
        ("core/actors.py", "import moncompte.web.views\n", "Only the channels import the channels"),
        (
            "accounts/sessions.py",
            "from moncompte.api import actors\n",
            "Only the channels import the channels (web, API, agents' console, telephony API)",
        ),
        ("accounts/signin.py", "from django.http import HttpRequest\n", "No domain module takes a request"),
        ("identity/services.py", "from django.shortcuts import render\n", "No domain module takes a request"),
    ],
)
def test_the_import_contracts_fail_when_a_domain_module_imports_the_web(synthetic_tree, module, source, broken):
    (synthetic_tree / "moncompte" / module).write_text(source)
    done = _lint_imports(synthetic_tree)
    assert done.returncode != 0, done.stdout
    assert f"{broken}" in done.stdout and "BROKEN" in done.stdout, done.stdout
