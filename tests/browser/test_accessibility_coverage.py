"""The accessibility crawler's list (tests/browser/pages.py) covers every URL of the web channel,
and docs/accessibility.md shows exactly that list: neither can drift from the site."""

import re
from pathlib import Path

from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from tests.browser.pages import CHECKS, NOT_PAGES, PATHS, ROLES, doc_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "accessibility.md"
# Paths with a parameter: the value the crawler opens them with.
PATH_EXAMPLES = {
    "web:onboarding_step": {"step": 1},
    "web:session_end": {"session_id": 1},
    "web:contact_remove": {"contact_id": 1},
    # The agents' console (issue 12).
    "backoffice:agent_detail": {"agent_id": 1},
    "backoffice:agent_roles": {"agent_id": 1},
    "backoffice:agent_deactivate": {"agent_id": 1},
    "backoffice:agent_reactivate": {"agent_id": 1},
    "backoffice:agent_second_factor_reset": {"agent_id": 1},
    "backoffice:counter_service": {"service_id": 1},
    "backoffice:counter_identify": {"service_id": 1},
    "backoffice:counter_close": {"service_id": 1},
    "backoffice:assisted_start": {"service_id": 1},
    "backoffice:identity_check": {"check_id": 1},
    "backoffice:rectification": {"request_id": 1},
    "backoffice:separation": {"change_id": 1},
    "backoffice:caf_request": {"request_id": 1},
}


def web_url_names() -> set[str]:
    """Every URL pattern name of the ``web`` namespace, from the resolver (as tests/web/test_fuzz.py)."""
    names = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and namespace.startswith("web:"):
                names.add(f"{namespace}{pattern.name}" if pattern.name else f"{namespace}{pattern.pattern}")

    walk(get_resolver().url_patterns, "")
    return names


def console_url_names() -> set[str]:
    """Every URL pattern name of the agents' console (the ``backoffice`` namespace, issue 12)."""
    names = set()

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif isinstance(pattern, URLPattern) and namespace.startswith("backoffice:"):
                names.add(f"{namespace}{pattern.name}" if pattern.name else f"{namespace}{pattern.pattern}")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_page_of_the_agents_console_is_checked_or_said_not_to_be_a_page():
    checked = {check.name for check in CHECKS}
    missing = sorted(console_url_names() - checked - set(NOT_PAGES))
    assert not missing, f"console URL names neither in tests/browser/pages.py's CHECKS nor in its NOT_PAGES: {missing}"


def test_every_url_of_the_web_channel_is_checked_or_said_not_to_be_a_page():
    checked = {check.name for check in CHECKS}
    missing = sorted(web_url_names() - checked - set(NOT_PAGES))
    assert not missing, f"URL names neither in tests/browser/pages.py's CHECKS nor in its NOT_PAGES: {missing}"
    assert not checked & set(NOT_PAGES)


def test_the_listed_paths_are_the_sites():
    wrong = {}
    for name, path in PATHS.items():
        if ":" not in name or "<" in path and name not in PATH_EXAMPLES:
            continue
        try:
            real = reverse(name, kwargs=PATH_EXAMPLES.get(name))
        except NoReverseMatch:
            continue  # a page being built: the crawler reports it
        example = "".join(str(value) for value in PATH_EXAMPLES.get(name, {}).values())
        expected = re.sub(r"<[^>]+>", example, path)
        if real != expected:
            wrong[name] = (path, real)
    assert not wrong, f"tests/browser/pages.py PATHS differ from web/urls.py: {wrong}"


def test_every_check_has_a_known_role_and_path():
    assert {check.role for check in CHECKS} <= set(ROLES)
    assert {check.name for check in CHECKS} <= set(PATHS)


def _doc_table() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2], cells[3])
    return rows


def test_the_documentation_lists_exactly_the_pages_checked():
    documented, listed = _doc_table(), doc_rows()
    assert list(documented) == list(listed), (
        "docs/accessibility.md's table and tests/browser/pages.py differ; "
        "regenerate it with `.venv/bin/python -m tests.browser.pages`"
    )
    differing = {name: (documented[name], listed[name]) for name in listed if documented[name] != listed[name]}
    assert not differing, f"docs/accessibility.md rows differ from tests/browser/pages.py: {differing}"
