"""Reads of the Caf's requests (moncompte.caf_requests.selectors) through the policy: every role
of the matrix, the order, the history, and what the home page's read costs."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from moncompte.caf_requests.selectors import (
    caf_request_attachment_for,
    caf_request_for,
    caf_request_history,
    caf_requests_for,
    caf_requests_waiting,
)
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from tests.factories import (
    AccountFactory,
    CafRequestAnswerFactory,
    CafRequestFactory,
    MemberFactory,
    PersonFactory,
    make_household,
)

pytestmark = pytest.mark.django_db


def actor(person) -> Actor:
    return Actor(channel=Channel.WEB, person=person)


@pytest.fixture
def requests(family):
    """The family's requests, one of another file, and the people of every role of the matrix."""
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True).person
    delegated = make_household(delegated=True)
    other = CafRequestFactory(dossier=delegated.dossier)
    rows = {
        "household": CafRequestFactory(dossier=family.dossier),
        "spouse": CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person),
        "child": CafRequestFactory(dossier=family.dossier, addressed_to=family.child.person),
        "former": CafRequestFactory(dossier=family.dossier, addressed_to=former),
    }
    people = {
        "R": family.responsible.person,
        "S": family.spouse.person,
        "M17": family.child.person,
        "X": former,
        "O": PersonFactory(),
        "S+ of another file": delegated.spouse.person,
    }
    return rows, people, other


MATRIX = {
    "R": {"household", "spouse", "child", "former"},
    "S": {"spouse"},
    "M17": {"child"},
    "X": set(),
    "O": set(),
    "S+ of another file": set(),
}


@pytest.mark.parametrize("role", MATRIX)
def test_each_role_sees_what_the_policy_allows_and_nothing_else(requests, role):
    rows, people, other = requests
    person = people[role]
    seen = {name for name, r in rows.items() if r in caf_requests_for(actor=actor(person))}
    assert seen == MATRIX[role]
    for name, request in rows.items():
        if name in MATRIX[role]:
            assert caf_request_for(actor=actor(person), request_id=request.pk) == request
        else:
            with pytest.raises(NotAllowed):
                caf_request_for(actor=actor(person), request_id=request.pk)
    if role != "S+ of another file":
        with pytest.raises(NotAllowed):
            caf_request_for(actor=actor(person), request_id=other.pk)


def test_a_delegated_spouse_sees_the_requests_of_their_file_to_the_household_and_to_others(requests):
    _, people, other = requests
    child = MemberFactory(dossier=other.dossier, child=True).person
    to_child = CafRequestFactory(dossier=other.dossier, addressed_to=child)
    assert caf_requests_for(actor=actor(people["S+ of another file"])) == [other, to_child]


def test_a_visitor_sees_nothing_and_no_query_is_made():
    visitor = Actor.visitor(channel=Channel.WEB)
    with CaptureQueriesContext(connection) as queries:
        assert caf_requests_waiting(actor=visitor) == []
    assert len(queries) == 0


def test_waiting_requests_come_nearest_due_date_first_without_the_answered_ones(family):
    today = timezone.localdate()
    later = CafRequestFactory(dossier=family.dossier, due_on=today + datetime.timedelta(days=40))
    late = CafRequestFactory(dossier=family.dossier, late=True)
    sooner = CafRequestFactory(dossier=family.dossier, due_on=today + datetime.timedelta(days=3))
    answered = CafRequestFactory(dossier=family.dossier, answered=True)
    closed = CafRequestFactory(dossier=family.dossier, closed=True)
    me = actor(family.responsible.person)
    assert caf_requests_waiting(actor=me) == [late, sooner, later]
    assert caf_requests_for(actor=me) == [late, sooner, later, answered, closed]


def test_the_home_pages_read_is_two_light_queries_whatever_the_number_of_requests(family):
    me = actor(family.responsible.person)
    CafRequestFactory(dossier=family.dossier)
    with CaptureQueriesContext(connection) as few:
        assert len(caf_requests_waiting(actor=me)) == 1
    for _ in range(20):
        CafRequestFactory(dossier=family.dossier)
    with CaptureQueriesContext(connection) as many:
        assert len(caf_requests_waiting(actor=me)) == 21
    assert len(few) == len(many) == 2
    # The second is a plain filter on the file (an index answers it), no join, no subquery.
    sql = many.captured_queries[-1]["sql"].upper()
    assert "JOIN" not in sql and "EXISTS" not in sql and sql.count("SELECT") == 1


def test_an_account_in_no_file_costs_one_query(db):
    person = AccountFactory().person
    with CaptureQueriesContext(connection) as queries:
        assert caf_requests_waiting(actor=actor(person)) == []
    assert len(queries) == 1


def test_the_history_lists_each_answer_with_its_author_oldest_first(family):
    request = CafRequestFactory(dossier=family.dossier, answered=True)
    first = CafRequestAnswerFactory(request=request, author=family.spouse.person, text="Premier")
    second = CafRequestAnswerFactory(request=request, author=family.responsible.person, text="Second")
    history = caf_request_history(actor=actor(family.responsible.person), request_id=request.pk)
    assert history.request == request and history.answers == [first, second]
    assert [a.author.display_name for a in history.answers] == [
        family.spouse.person.display_name,
        family.responsible.person.display_name,
    ]
    with pytest.raises(NotAllowed):
        caf_request_history(actor=actor(family.child.person), request_id=request.pk)


def test_a_file_of_an_answer_is_found_only_through_its_request(family):
    request = CafRequestFactory(dossier=family.dossier)
    other = CafRequestFactory(dossier=family.dossier)
    answer = CafRequestAnswerFactory(request=request, author=family.responsible.person)
    attachment = answer.attachments.create(
        file="caf-requests/x.png", content_type="image/png", size=1, sha256="0" * 64, original_name="x.png"
    )
    me = actor(family.responsible.person)
    assert caf_request_attachment_for(actor=me, request_id=request.pk, attachment_id=attachment.pk) == attachment
    with pytest.raises(NotAllowed):
        caf_request_attachment_for(actor=me, request_id=other.pk, attachment_id=attachment.pk)
    with pytest.raises(NotAllowed):
        caf_request_attachment_for(actor=actor(family.child.person), request_id=request.pk, attachment_id=attachment.pk)
