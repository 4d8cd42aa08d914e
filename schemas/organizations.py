"""The `organizations`, `memberships` and `channels` resource types."""

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Boolean, Relationship, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema

from .base import single_line, validate_optional_email, validate_web_url


class VersionedSchema(ResourceSchema):
    """A syncable resource's versions; `updated_in_db_at` may come back as a write's base."""

    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)
    # null is accepted (no base), never answered
    updated_in_db_at = Timestamp(allow_none=True, metadata={"answered_null": False})

    class Meta:
        type_ = "resources"


class OrganizationSchema(VersionedSchema):
    name = fields.Str(required=True, validate=single_line(min_length=1, max_length=100))
    description = fields.Str(allow_none=True, validate=validate.Length(max=2000))
    email = fields.Str(allow_none=True, validate=validate_optional_email)
    industry = fields.Str(allow_none=True, validate=single_line(max_length=100))
    location = fields.Str(allow_none=True, validate=single_line(max_length=100))
    country = fields.Str(allow_none=True, validate=single_line(max_length=100))
    logo_url = fields.Str(allow_none=True, validate=validate_web_url)
    members_count = fields.Int(dump_only=True)
    channels_count = fields.Int(dump_only=True)
    owner = Relationship("users")
    memberships = Relationship("memberships", many=True)
    channels = Relationship("channels", many=True)
    invites = Relationship("organization_invites", many=True)

    class Meta:
        type_ = "organizations"
        self_path = "/organizations/{id}"


class MembershipSchema(VersionedSchema):
    role = fields.Str(validate=validate.OneOf(("owner", "admin", "member")))
    removed_at = Timestamp(dump_only=True, allow_none=True)  # allow_none: may be answered null
    user = Relationship("users", dump_only=False)
    organization = Relationship("organizations", dump_only=False)

    class Meta:
        type_ = "memberships"
        self_path = "/organizations/{organization_id}/memberships/{id}"


class ChannelSchema(VersionedSchema):
    name = fields.Str(required=True, validate=single_line(min_length=1, max_length=80))
    description = fields.Str(allow_none=True, validate=validate.Length(max=2000))
    archived = Boolean()
    archived_at = Timestamp(dump_only=True, allow_none=True)
    members_count = fields.Int(dump_only=True)
    organization = Relationship("organizations", dump_only=False)
    owner = Relationship("users")
    members = Relationship("users", many=True)

    class Meta:
        type_ = "channels"
        self_path = "/organizations/{organization_id}/channels/{id}"


class DeletedRecordSchema(ResourceSchema):
    deletable_type = fields.Str(dump_only=True)
    deletable_id = fields.Str(dump_only=True)
    deleted_at = Timestamp(dump_only=True)
    updated_in_db_at = Timestamp(dump_only=True)
    deleted_by = Relationship("users", related_path="/users/{deleted_by_id}")

    class Meta:
        type_ = "deleted_records"
