"""marshmallow-jsonapi schemas, one module per resource type; they only describe."""
