"""JSON:API error objects and the exception that carries them to the error handler."""

from http import HTTPStatus
from typing import Any, TypedDict, Unpack


class ErrorMembers(TypedDict, total=False):
    """What error_object takes besides status, code and detail (so a caller's names are checked)."""

    pointer: str | None
    parameter: str | None
    header: str | None
    meta: dict | None


class JsonApiError(Exception):
    """A protocol-level failure: one or more JSON:API error objects with one HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict | None = None,
        **members: Unpack[ErrorMembers],
    ):
        super().__init__(detail)
        self.status = status
        self.headers = headers or {}
        self.errors = [error_object(status, code, detail, **members)]

    @classmethod
    def many(cls, status: int, errors: list[dict]) -> "JsonApiError":
        """Several error objects answered together (validation reports every field at once)."""
        error = cls(status, "invalid", "")
        error.errors = errors
        return error


def error_object(
    status: int,
    code: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
    header: str | None = None,
    meta: dict | None = None,
) -> dict:
    """Build one error object; `status` is written as a string, as JSON:API requires."""
    error: dict[str, Any] = {
        "status": str(status),
        "code": code,
        "title": status_title(status),
        "detail": detail,
    }
    named = {"pointer": pointer, "parameter": parameter, "header": header}
    source = {member: value for member, value in named.items() if value is not None}
    if source:
        error["source"] = source
    if meta:
        error["meta"] = meta
    return error


def status_title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def json_pointer(*segments: object) -> str:
    """An RFC 6901 pointer: `~` and `/` inside a member name are escaped as `~0` and `~1`."""
    return "".join("/" + str(segment).replace("~", "~0").replace("/", "~1") for segment in segments)


def bad_parameter(parameter: str, detail: str, code: str = "invalid_parameter") -> JsonApiError:
    return JsonApiError(400, code, detail, parameter=parameter)


def bad_document(pointer: str, detail: str, code: str = "invalid_document") -> JsonApiError:
    return JsonApiError(400, code, detail, pointer=pointer)
