"""The JSON:API 1.1 protocol, shared by every resource and knowing nothing of any of them."""

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
JSONAPI_VERSION = "1.1"
API_PREFIX = "/api/v2"
