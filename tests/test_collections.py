"""Collections: pagination meta and links in the seed's shape, sorting, filtering, sparse
fieldsets, and 400s naming the parameter for anything unknown or malformed."""

from urllib.parse import parse_qsl, urlsplit

import pytest

from .factories import UserFactory


@pytest.fixture
def people(session, superadmin):
    """The superadmin plus 6 users (7 visible to the superadmin)."""
    return [superadmin, *UserFactory.create_batch(6)]


@pytest.fixture
def admin_get(client, login, superadmin):
    headers = login(superadmin)

    def get(url, **kwargs):
        return client.get(url, headers=headers, **kwargs)

    return get


def query_of(link: str) -> dict:
    return dict(parse_qsl(urlsplit(link).query))


def test_meta_has_the_seeds_shape(admin_get, people):
    document = admin_get("/api/v2/users?page[size]=3&page[number]=2").json
    assert document["meta"] == {
        "pagination": {"page": 2, "per_page": 3, "total_count": 7, "total_pages": 3},
        "sort": None,
        "filter": {},
    }
    assert len(document["data"]) == 3


def test_links_first_last_prev_next(admin_get, people):
    links = admin_get("/api/v2/users?page[size]=3&page[number]=2&sort=email").json["links"]
    assert query_of(links["first"])["page[number]"] == "1"
    assert query_of(links["last"])["page[number]"] == "3"
    assert query_of(links["prev"])["page[number]"] == "1"
    assert query_of(links["next"])["page[number]"] == "3"
    assert query_of(links["next"])["sort"] == "email"
    assert "%5B" in links["next"]  # brackets are percent-encoded in written URLs


def test_first_page_has_no_prev_and_last_page_no_next(admin_get, people):
    first = admin_get("/api/v2/users?page[size]=3").json["links"]
    assert first["prev"] is None and first["next"] is not None
    last = admin_get("/api/v2/users?page[size]=3&page[number]=3").json["links"]
    assert last["next"] is None and last["prev"] is not None


def test_page_past_the_end_is_empty_200(admin_get, people):
    response = admin_get("/api/v2/users?page[number]=50")
    assert response.status_code == 200
    assert response.json["data"] == []
    assert response.json["meta"]["pagination"]["page"] == 50
    # The count rides on the page's rows; with no rows it is asked for by itself.
    everyone = admin_get("/api/v2/users?page[size]=100").json["meta"]["pagination"]
    assert response.json["meta"]["pagination"]["total_count"] == everyone["total_count"] > 0


def test_empty_collection_has_zero_pages_and_links_to_page_one(admin_get, superadmin):
    document = admin_get("/api/v2/users?filter[email]=nobody@example.com").json
    assert document["data"] == []
    assert document["meta"]["pagination"]["total_pages"] == 0
    assert query_of(document["links"]["last"])["page[number]"] == "1"


def test_offset_and_limit_are_accepted(admin_get, people):
    document = admin_get("/api/v2/users?page[offset]=2&page[limit]=2&sort=email").json
    everyone = admin_get("/api/v2/users?sort=email").json["data"]
    assert [u["id"] for u in document["data"]] == [u["id"] for u in everyone[2:4]]
    assert query_of(document["links"]["next"]) == {
        "sort": "email",
        "page[offset]": "4",
        "page[limit]": "2",
    }


def test_percent_encoded_brackets_are_the_same_parameter(admin_get, people):
    document = admin_get("/api/v2/users?page%5Bsize%5D=2").json
    assert document["meta"]["pagination"]["per_page"] == 2


@pytest.mark.parametrize(
    "parameter",
    [
        "page[size]=0",
        "page[size]=101",
        "page[size]=-1",
        "page[size]=abc",
        "page[size]=2.5",
        "page[number]=0",
        "page[number]=" + "9" * 40,
        "page[offset]=-3",
        "page[limit]=1000",
        "page[cursor]=x",
        "page=3",
        "page[number]=1&page[offset]=0",
    ],
)
def test_bad_page_parameters_are_400(admin_get, parameter):
    response = admin_get(f"/api/v2/users?{parameter}")
    assert response.status_code == 400
    assert response.json["errors"][0]["source"]["parameter"].startswith("page")


def test_default_sort_is_newest_first_with_id_breaking_ties(admin_get, people):
    data = admin_get("/api/v2/users").json["data"]
    keys = [(u["attributes"]["created_at"], u["id"]) for u in data]
    assert keys == sorted(keys, key=lambda k: (_desc(k[0]), k[1]))


def _desc(text: str) -> tuple:
    return tuple(-ord(c) for c in text)


def test_sort_ascending_descending_and_echo(admin_get, people):
    ascending = admin_get("/api/v2/users?sort=email").json
    emails = [u["attributes"]["email"] for u in ascending["data"]]
    assert emails == sorted(emails)
    descending = admin_get("/api/v2/users?sort=-email").json
    assert [u["attributes"]["email"] for u in descending["data"]] == sorted(emails, reverse=True)
    assert descending["meta"]["sort"] == "-email"


def test_dasherized_member_names_are_accepted_and_echoed_snake_case(admin_get, people):
    document = admin_get("/api/v2/users?sort=-first-name,created-at").json
    assert document["meta"]["sort"] == "-first_name,created_at"
    sparse = admin_get("/api/v2/users?fields[users]=first-name").json
    assert set(sparse["data"][0]["attributes"]) == {"first_name"}


@pytest.mark.parametrize(
    "parameter",
    ["sort=password", "sort=email,email", "sort=", "sort=-", "sort=nope"],
)
def test_bad_sort_is_400(admin_get, parameter):
    response = admin_get(f"/api/v2/users?{parameter}")
    assert response.status_code == 400
    assert response.json["errors"][0]["source"] == {"parameter": "sort"}


def test_filter_by_ids_for_coalesced_finds(admin_get, people):
    wanted = sorted(str(u.id) for u in people[1:4])
    response = admin_get(f"/api/v2/users?filter[id]={','.join(wanted)}")
    assert sorted(u["id"] for u in response.json["data"]) == wanted
    assert response.json["meta"]["filter"] == {"id": ",".join(wanted)}


def test_jquery_style_array_filter(admin_get, people):
    ids = [str(u.id) for u in people[1:3]]
    response = admin_get(f"/api/v2/users?filter[id][]={ids[0]}&filter[id][]={ids[1]}")
    assert sorted(u["id"] for u in response.json["data"]) == sorted(ids)


def test_filter_by_email_is_case_insensitive(admin_get, people):
    target = people[2]
    document = admin_get(f"/api/v2/users?filter[email]={target.email.upper()}").json
    assert [u["id"] for u in document["data"]] == [str(target.id)]


@pytest.mark.parametrize(
    "parameter",
    ["filter[id]=not-a-uuid", "filter[nope]=1", "filter=x", "filter[]=x", "filter[email]="],
)
def test_bad_filters_are_400(admin_get, parameter):
    response = admin_get(f"/api/v2/users?{parameter}")
    assert response.status_code == 400
    assert response.json["errors"][0]["source"]["parameter"].startswith("filter")


def test_sparse_fieldsets(admin_get, people):
    document = admin_get("/api/v2/users?fields[users]=email,full_name").json
    assert all(set(u["attributes"]) == {"email", "full_name"} for u in document["data"])
    empty = admin_get("/api/v2/users?fields[users]=").json
    assert all("attributes" not in u for u in empty["data"])


@pytest.mark.parametrize(
    ("parameter", "source"),
    [
        ("fields[users]=password", "fields[users]"),
        ("fields[nothings]=a", "fields[nothings]"),
        ("fields=email", "fields"),
        ("include=organization", "include"),
        ("include=user.user.user", "include"),
        ("search=x", "search"),
        ("q=1", "q"),
    ],
)
def test_unknown_parameters_are_400(admin_get, parameter, source):
    response = admin_get(f"/api/v2/users?{parameter}")
    assert response.status_code == 400
    assert response.json["errors"][0]["source"] == {"parameter": source}


def test_implementation_specific_parameters_are_ignored(admin_get, people):
    assert admin_get("/api/v2/users?cacheBuster=1&page-hint=x").status_code == 200


@pytest.mark.parametrize("name", ["_", "-x", "x-", "a%5Cb", "a.b"])
def test_parameters_that_are_not_member_names_are_400(admin_get, name):
    response = admin_get(f"/api/v2/users?{name}=1")
    assert response.status_code == 400
    assert response.json["errors"][0]["code"] == "unknown_parameter"


def test_collection_only_parameters_are_400_on_a_single_resource(admin_get, superadmin):
    for parameter in ("sort=email", "page[size]=2", "filter[id]=x"):
        response = admin_get(f"/api/v2/users/{superadmin.id}?{parameter}")
        assert response.status_code == 400


def test_list_costs_the_same_statements_for_1_and_for_many(admin_get, superadmin, count_queries):
    with count_queries() as one:
        assert len(admin_get("/api/v2/users?filter[id]=" + str(superadmin.id)).json["data"]) == 1
    UserFactory.create_batch(40)
    with count_queries() as many:
        assert len(admin_get("/api/v2/users?page[size]=100").json["data"]) == 41
    # authentication, page (with its count)
    assert len(one) == len(many) == 2
