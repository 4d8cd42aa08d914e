"""marshmallow-jsonapi schemas, one module per resource type; they only describe. Importing the
package registers every type, so a relationship can name a type whose module is not imported."""

from . import invites, organizations, tokens, users

__all__ = ["invites", "organizations", "tokens", "users"]
