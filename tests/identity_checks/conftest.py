"""Fixtures of the identity checks' queue (issue 12): Cafs with known départements, checkers.

Every Caf of these tests names its département: the factories draw one at random, and a check
belongs to the Caf of its declared postal code's département."""

import pytest

from moncompte.access.agents import AgentRole
from tests.factories import AgentFactory, CafFactory


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lyon(db):
    return CafFactory(departement="69", name="Caf du Rhône")


@pytest.fixture
def paris(db):
    return CafFactory(departement="75", name="Caf de Paris")


@pytest.fixture
def checker(lyon):
    return AgentFactory(caf=lyon, roles=[AgentRole.IDENTITY_CHECKER.value], first_names="Nadia", last_name="Benali")


@pytest.fixture
def paris_checker(paris):
    return AgentFactory(caf=paris, roles=[AgentRole.IDENTITY_CHECKER.value])


@pytest.fixture
def counter_agent(lyon):
    return AgentFactory(caf=lyon, roles=[AgentRole.COUNTER.value])
