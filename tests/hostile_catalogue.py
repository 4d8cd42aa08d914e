"""What the hostile-input catalogue is generated from: the API's operations found as the OpenAPI
generator finds them (URL map, `spec_of`), request bodies built from the schemas' own fields,
a world of one resource of each type to aim them at, and a snapshot of every table."""

import itertools
import re
import uuid
from dataclasses import dataclass

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

from jsonapi_server.extensions import db
from jsonapi_server.jsonapi import API_PREFIX
from jsonapi_server.jsonapi.fields import Relationship
from jsonapi_server.jsonapi.operations import OperationSpec, spec_of
from jsonapi_server.jsonapi.schema import ResourceSchema

from .factories import PASSWORD, UserFactory

_ARGUMENT = re.compile(r"<(?:[a-z]+:)?(?P<name>[a-z_]+)>")
_COUNTER = itertools.count()


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str  # the URL rule, `<uuid:id>` and all
    spec: OperationSpec

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def operations(app) -> list[Operation]:
    """Each described view once, at its canonical rule: flat aliases (rules with defaults) and
    other spellings of the same view are skipped, and PUT-as-PATCH counts once."""
    found: dict[int, Operation] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX + "/") or rule.defaults:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            spec = spec_of(view, method)
            if spec is not None and id(spec) not in found:
                found[id(spec)] = Operation(method, rule.rule, spec)
    return list(found.values())


def body_operations(app) -> list[Operation]:
    """Operations that load a resource object (creates, updates, actions with a body)."""
    return [
        op
        for op in operations(app)
        if isinstance(op.spec.request, type) and issubclass(op.spec.request, ResourceSchema)
    ]


def writable_attributes(schema_class: type[ResourceSchema]) -> dict[str, ma.fields.Field]:
    return {
        name: field
        for name, field in schema_class._declared_fields.items()
        if name != "id" and not field.dump_only and not isinstance(field, Relationship)
    }


def _candidates(n: int) -> list:
    """Values one of which each kind of field of ours accepts; the first a field takes is its
    valid value (no table of endpoints: a new attribute picks its own)."""
    return [
        f"Hostile value {n}",
        f"hostile{n}",  # a username's form
        f"+1555{n:07d}",  # a phone number's
        f"hostile{n}@example.com",
        "0" * 64,  # an invite code's form
        f"https://example.com/{n}",
        [f"hostile{n}@example.com"],
        True,
    ]


def valid_value(field: ma.fields.Field):
    n = next(_COUNTER)
    choices = [c for v in field.validators if isinstance(v, ma.validate.OneOf) for c in v.choices]
    for candidate in [*choices, *_candidates(n)]:
        try:
            field.deserialize(candidate)
        except ma.ValidationError:
            continue
        return candidate
    raise AssertionError(f"no candidate value suits {field!r}: add one to _candidates")


class World:
    """One resource of each type, made through the API, to aim item operations at."""

    def __init__(self, api, client, login):
        self.client, self.login = client, login
        self.owner = UserFactory()
        self.headers = login(self.owner)
        member = UserFactory()
        organization = api.create_organization(self.owner)
        self.organization_id = organization["id"]
        invite = client.send(
            "POST",
            f"/api/v2/organizations/{self.organization_id}/invites",
            {
                "data": {
                    "type": "organization_invites",
                    "attributes": {"recipient_email": "invited@example.com"},
                }
            },
            headers=self.headers,
        )
        assert invite.status_code == 201, invite.json
        email_change = client.send(
            "POST",
            "/api/v2/email-changes",
            {
                "data": {
                    "type": "email_changes",
                    "attributes": {"email": "moved@example.com", "current_password": PASSWORD},
                }
            },
            headers=self.headers,
        )
        assert email_change.status_code == 201, email_change.json
        self.ids = {
            "email_changes": email_change.json["data"]["id"],
            "organizations": self.organization_id,
            "memberships": api.add_member(self.organization_id, self.owner, member)["id"],
            "channels": api.create_channel(self.organization_id, self.owner)["id"],
            "organization_invites": invite.json["data"]["id"],
            "users": str(self.owner.id),
        }

    def arguments(self, operation: Operation) -> dict[str, str]:
        """The URL's arguments: each the world's resource of the collection named before it
        (`/channels/<uuid:id>` a channel), the collections read off the schemas' self paths."""
        by_segment = {
            schema.opts.self_path.split("/")[-2]: self.ids.get(type_)
            for type_, schema in ResourceSchema.registry.items()
            if schema.opts.self_path
        }
        for type_, id_ in self.ids.items():  # a type without a self path: its dasherized name
            by_segment.setdefault(type_.replace("_", "-"), id_)
        segments = operation.rule.split("/")
        return {
            match["name"]: by_segment[segments[index - 1]]
            for index, segment in enumerate(segments)
            if (match := _ARGUMENT.fullmatch(segment))
        }

    def url(self, operation: Operation) -> str:
        arguments = self.arguments(operation)
        return _ARGUMENT.sub(lambda m: str(arguments[m["name"]]), operation.rule)

    def identifier(self, type_: str) -> dict:
        """Linkage for a writable relationship: a fresh account for users (nobody's member
        yet), the world's resource otherwise."""
        id_ = str(UserFactory().id) if type_ == "users" else self.ids[type_]
        return {"type": type_, "id": id_}

    def document(self, operation: Operation, attributes: dict) -> dict:
        """A valid body for `operation` (its required attributes, its writable relationships)
        with `attributes` laid over it."""
        schema_class = operation.spec.request
        data: dict = {"type": schema_class.type_name()}
        item = "id" in self.arguments(operation)
        if item:
            data["id"] = self.arguments(operation)["id"]
        else:
            data["relationships"] = {
                name: {"data": self.identifier(field.type_)}
                for name, field in schema_class._declared_fields.items()
                if isinstance(field, Relationship) and not field.dump_only
            }
        required = {
            name: valid_value(field)
            for name, field in writable_attributes(schema_class).items()
            if field.required and operation.spec.kind != "update"  # an update is partial
        }
        data["attributes"] = {**required, **attributes}
        return {"data": data}

    def send(self, operation: Operation, document=None, headers=None):
        headers = {**self.headers, **(headers or {})}
        return self.client.send(operation.method, self.url(operation), document, headers=headers)


def snapshot(connection) -> dict[str, tuple]:
    """Each table's row count and a hash of its rows, read in one statement."""
    parts = [
        sa.select(
            sa.literal(table.name),
            sa.func.count(),
            sa.func.md5(sa.func.coalesce(_rows_text(table), "")),
        ).select_from(table)
        for table in db.metadata.sorted_tables
    ]
    rows = connection.execute(sa.union_all(*parts)).all()
    return {name: (count, digest) for name, count, digest in rows}


def _rows_text(table: sa.Table):
    """Every row of `table` as text, in a fixed order."""
    row = sa.cast(sa.func.row(*table.columns), sa.Text)
    return sa.func.string_agg(row, aggregate_order_by(sa.literal("|"), row))


def random_id() -> str:
    return str(uuid.uuid4())
