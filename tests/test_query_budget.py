"""The query budget of the requests clients make most (issue 6's W1 and W2), and that a
collection costs the same for 1 and for many items with every include asked for."""

import pytest

from jsonapi_server.models import Membership

from .factories import UserFactory


@pytest.fixture
def org_with_invites(api, client, login, user, session):
    organization = api.create_organization(user)
    admins = UserFactory.create_batch(3)
    session.add_all(
        Membership(organization_id=organization["id"], user_id=a.id, role="admin") for a in admins
    )
    session.commit()

    def invite(count: int) -> list[dict]:
        created = []
        for number in range(count):
            email = f"budget-{number}-{id(created)}@example.com"
            body = {
                "data": {"type": "organization_invites", "attributes": {"recipient_email": email}}
            }
            response = client.send(
                "POST",
                f"/api/v2/organizations/{organization['id']}/invites",
                body,
                headers=login(admins[number % 3]),
            )
            created.append(response.json["data"])
        return created

    return organization, invite


def test_w1_a_page_of_invites_with_their_inviters_costs_4(
    client, login, user, org_with_invites, count_queries
):
    organization, invite = org_with_invites
    invite(60)
    url = (
        f"/api/v2/organizations/{organization['id']}/invites"
        "?page[number]=2&page[size]=25&include=invited_by_user"
    )
    headers = login(user)
    with count_queries() as statements:
        response = client.get(url, headers=headers)
    assert len(response.json["data"]) == 25
    # token revocation (with the caller), membership check, the page with its count (a
    # window function), the included users
    assert len(statements) == 4, statements


def test_w2_one_invite_costs_2(client, login, user, org_with_invites, count_queries):
    organization, invite = org_with_invites
    [created] = invite(1)
    url = f"/api/v2/organizations/{organization['id']}/invites/{created['id']}"
    headers = login(user)
    with count_queries() as statements:
        assert client.get(url, headers=headers).status_code == 200
    # token revocation (with the caller); the invite with the caller's role in its organization
    assert len(statements) == 2, statements
