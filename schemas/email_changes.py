"""The `email_changes` resource type: a new address waiting for the code mailed to it."""

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Relationship, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema

CODE = validate.Regexp(r"^[0-9a-f]{64}$", error="A code is 64 hexadecimal characters.")


class EmailChangeSchema(ResourceSchema):
    email = fields.Email(required=True, attribute="new_email", validate=validate.Length(max=254))
    current_password = fields.Str(required=True, load_only=True, validate=validate.Length(max=128))
    created_at = Timestamp(dump_only=True)
    expires_at = Timestamp(dump_only=True)
    confirmed_at = Timestamp(dump_only=True)
    user = Relationship("users", related_path="/users/{user_id}")

    class Meta:
        type_ = "email_changes"


class EmailChangeConfirmSchema(ResourceSchema):
    """PUT .../confirm: the code from the email."""

    code = fields.Str(required=True, load_only=True, validate=CODE)

    class Meta:
        type_ = "email_changes"
