"""The `organization_invites`, `invite_batches` and `invite_verifications` resource types.
Attribute and relationship names follow the v2 seed to the letter."""

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Boolean, Relationship, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema

CODE = validate.Regexp(r"^[0-9a-f]{64}$", error="An invite code is 64 hexadecimal characters.")
INVITE_ROLES = validate.OneOf(("admin", "member"))


class OrganizationInviteSchema(ResourceSchema):
    accepted_at = Timestamp(dump_only=True, allow_none=True)  # allow_none: may be answered null
    code = fields.Str(dump_only=True)
    created_at = Timestamp(dump_only=True)
    invite_user_as = fields.Str(validate=INVITE_ROLES)
    recipient_email = fields.Email(required=True, validate=validate.Length(max=254))
    updated_at = Timestamp(dump_only=True)
    updated_in_db_at = Timestamp(allow_none=True, metadata={"answered_null": False})
    status = fields.Str(dump_only=True)
    expires_at = Timestamp(dump_only=True)
    cancelled_at = Timestamp(dump_only=True, allow_none=True)
    last_sent_at = Timestamp(dump_only=True)
    accepted_by_user = Relationship("users")
    cancelled_by_user = Relationship("users")
    invited_by_user = Relationship("users")
    organization = Relationship("organizations", dump_only=False)

    class Meta:
        type_ = "organization_invites"
        self_path = "/organizations/{organization_id}/invites/{id}"

    @classmethod
    def etag_extra(cls, obj) -> str:
        return obj.status  # an invite expiring changes its representation, not its version


class InviteUpdateSchema(OrganizationInviteSchema):
    """PATCH: the recipient is fixed once invited (sent back, it is ignored)."""

    recipient_email = fields.Str(dump_only=True)


class InviteAcceptSchema(OrganizationInviteSchema):
    """PUT .../accept: the code from the email."""

    code = fields.Str(required=True, load_only=True, validate=CODE)
    recipient_email = fields.Str(dump_only=True)
    invite_user_as = fields.Str(dump_only=True)


class InviteBatchSchema(ResourceSchema):
    recipient_emails = fields.List(
        fields.Raw(), required=True, validate=validate.Length(min=1, max=100)
    )
    invite_user_as = fields.Str(load_default="member", validate=INVITE_ROLES)
    resend_pending = Boolean(load_default=False, load_only=True)
    created_count = fields.Int(dump_only=True)
    resent_count = fields.Int(dump_only=True)
    errors = fields.List(fields.Dict(), dump_only=True)
    invites = Relationship("organization_invites", many=True, links=False)

    class Meta:
        type_ = "invite_batches"


class InviteVerificationSchema(ResourceSchema):
    code = fields.Str(required=True, load_only=True, validate=CODE)
    recipient_email = fields.Str(dump_only=True)
    invite_user_as = fields.Str(dump_only=True)
    status = fields.Str(dump_only=True)
    expires_at = Timestamp(dump_only=True)
    recipient_has_account = Boolean(dump_only=True)
    # No links: whoever holds the code may not read the invite, nor (until they accept it)
    # the organization; `include=organization` gives its name.
    invite = Relationship("organization_invites", id_attribute="invite_id", links=False)
    organization = Relationship("organizations", links=False)

    class Meta:
        type_ = "invite_verifications"
