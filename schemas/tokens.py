"""The `tokens` resource type: a sign-in's access and refresh tokens."""

from marshmallow import validate
from marshmallow_jsonapi import fields

from jsonapi_server.jsonapi.fields import Relationship
from jsonapi_server.jsonapi.schema import ResourceSchema


class TokenSchema(ResourceSchema):
    email = fields.Email(required=True, load_only=True, validate=validate.Length(max=254))
    password = fields.Str(required=True, load_only=True, validate=validate.Length(max=128))
    access_token = fields.Str(dump_only=True)
    refresh_token = fields.Str(dump_only=True)
    token_type = fields.Str(dump_only=True)
    expires_in = fields.Int(dump_only=True)
    user = Relationship("users", related_path="/users/{user_id}")

    class Meta:
        type_ = "tokens"
