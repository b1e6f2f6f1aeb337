"""Shared by the Caf's requests tests: files stored in a temporary folder, the test scanner."""

from pathlib import Path

import pytest

from tests.caf_requests.scanner import SCANNER


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture(autouse=True)
def test_scanner(settings):
    settings.MONCOMPTE_VIRUS_SCANNER = SCANNER
    return settings


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
