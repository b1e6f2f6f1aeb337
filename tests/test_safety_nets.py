"""The safety nets of tests/conftest.py are on: each of these fails if one is removed."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from moncompte.households.models import Caf
from moncompte.identity.models import Person
from tests.factories import CafFactory, PersonFactory


def test_an_unknown_template_variable_fails_the_test():
    with pytest.raises(pytest.fail.Exception, match="unknown_thing"):
        Template("Bonjour {{ unknown_thing }}").render(Context({}))
    with pytest.raises(pytest.fail.Exception, match="name"):
        Template("Bonjour {{ person.name }}").render(Context({"person": object()}))


def test_tags_that_test_a_variable_still_accept_a_missing_one():
    assert Template("{% if missing %}oui{% else %}non{% endif %}").render(Context({})) == "non"
    assert Template("{% for x in missing %}{{ x }}{% endfor %}fin").render(Context({})) == "fin"


@pytest.mark.django_db
def test_a_queryset_without_ordering_comes_back_shuffled():
    PersonFactory.create_batch(8)
    orders = {tuple(Person.objects.values_list("pk", flat=True)) for _ in range(10)}
    assert len(orders) > 1
    assert len({tuple(person.pk for person in Person.objects.all()) for _ in range(10)}) > 1


@pytest.mark.django_db
def test_an_ordered_queryset_keeps_its_order():
    CafFactory.create_batch(6)
    codes = list(Caf.objects.values_list("code", flat=True))
    assert codes == sorted(codes)
    assert list(Person.objects.order_by("pk").values_list("pk", flat=True)) == sorted(
        Person.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_a_slice_of_an_unordered_queryset_is_ordered_at_random_in_sql():
    with CaptureQueriesContext(connection) as queries:
        list(Person.objects.all()[:2])
        Person.objects.count()
        Person.objects.exists()
    # RAND() on SQLite (Django's function), RANDOM() on PostgreSQL.
    sliced, count, exists = (query["sql"].upper() for query in queries)
    assert "ORDER BY RAND" in sliced
    assert "ORDER BY" not in count and "ORDER BY" not in exists


def test_each_test_has_a_time_limit(request):
    assert float(request.config.getini("timeout")) == 120


@pytest.mark.server
def test_server_tests_get_a_longer_time_limit(request):
    assert request.node.get_closest_marker("timeout").args == (600,)
