"""The `users` resource type (accounts and profiles)."""

import re

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Boolean, Timestamp
from jsonapi_server.jsonapi.schema import ResourceSchema

from .base import single_line, validate_web_url

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")
PASSWORD_LENGTH = validate.Length(min=8, max=128)  # every password an account is given


class UserSchema(ResourceSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    first_name = fields.Str(allow_none=True, validate=single_line(max_length=100))
    last_name = fields.Str(allow_none=True, validate=single_line(max_length=100))
    full_name = fields.Str(dump_only=True)
    username = fields.Str(
        allow_none=True,
        validate=[
            validate.Length(min=3, max=50),
            validate.Regexp(USERNAME, error="Letters, digits, '_', '.' and '-' only."),
        ],
    )
    phone = fields.Str(
        allow_none=True,
        validate=[
            validate.Length(min=3, max=32),
            validate.Regexp(PHONE, error="Not a valid phone number."),
        ],
    )
    avatar_url = fields.Str(allow_none=True, validate=validate_web_url)
    is_verified = Boolean(dump_only=True)
    is_superadmin = Boolean(dump_only=True)
    created_at = Timestamp(dump_only=True)
    updated_at = Timestamp(dump_only=True)

    class Meta:
        type_ = "users"
        self_path = "/users/{id}"
        # Shown to the user themself and to superadmins only.
        private_fields = ("is_superadmin",)


class RegistrationSchema(UserSchema):
    """A `users` create document: the profile plus the password, which is never written out."""

    password = fields.Str(required=True, load_only=True, validate=PASSWORD_LENGTH)
    invite_code = fields.Str(load_only=True)  # sign-up through an invitation
