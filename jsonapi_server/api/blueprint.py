"""The one blueprint every API resource registers on, mounted at /api/v2."""

from flask import Blueprint

from jsonapi_server.jsonapi import API_PREFIX

api = Blueprint("api", __name__, url_prefix=API_PREFIX)
