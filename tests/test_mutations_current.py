"""tools/mutations.py still matches the code: a refactor that moves a rule's snippet makes its
mutation STALE, and the rule unverified, without anyone noticing until the next full run (five
had gone stale that way). Checked here, in every `make test`, without running any mutation."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _mutations():
    spec = importlib.util.spec_from_file_location("mutations", ROOT / "tools" / "mutations.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.MUTATIONS


MUTATIONS = _mutations()


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[mutation.name for mutation in MUTATIONS])
def test_each_snippet_is_found_exactly_once(mutation):
    for file, edits in mutation.edits_by_file().items():
        text = (ROOT / file).read_text()
        for find, replace in edits:
            assert find != replace, f"{mutation.name}: an edit that changes nothing"
            assert text.count(find) == 1, f"{mutation.name}: {find.strip()[:70]!r} in {file}"


def test_names_are_unique_and_each_one_is_in_the_docs_table():
    names = [mutation.name for mutation in MUTATIONS]
    assert len(names) == len(set(names))
    table = (ROOT / "docs" / "testing.md").read_text()
    assert [name for name in names if f"`{name}`" not in table] == []


def test_each_selection_names_test_files_that_exist():
    for mutation in MUTATIONS:
        paths = [arg.split("::")[0] for arg in mutation.tests if arg.startswith("tests/")]
        assert paths, mutation.name
        assert [path for path in paths if not (ROOT / path).exists()] == [], mutation.name
