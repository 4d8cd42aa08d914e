"""The `password_changes` and `password_resets` resource types."""

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Relationship, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema

from .email_changes import CODE
from .users import PASSWORD_LENGTH


class PasswordChangeSchema(ResourceSchema):
    current_password = fields.Str(required=True, load_only=True, validate=validate.Length(max=128))
    password = fields.Str(required=True, load_only=True, validate=PASSWORD_LENGTH)
    changed_at = Timestamp(dump_only=True)
    user = Relationship("users", related_path="/users/{user_id}")

    class Meta:
        type_ = "password_changes"


class PasswordResetSchema(ResourceSchema):
    """A reset: asked for with `email`; confirmed with the mailed `token` and a `password`."""

    email = fields.Email(required=True, load_only=True, validate=validate.Length(max=254))
    used_at = Timestamp(dump_only=True)

    class Meta:
        type_ = "password_resets"


class PasswordResetConfirmSchema(ResourceSchema):
    token = fields.Str(required=True, load_only=True, validate=CODE)
    password = fields.Str(required=True, load_only=True, validate=PASSWORD_LENGTH)

    class Meta:
        type_ = "password_resets"
