"""Domain errors: each says what went wrong in terms a client can act on."""


class DomainError(Exception):
    """A rule refused the request. `code` is stable; `pointer` names the document member at
    fault, `parameter` the query parameter; `retry_after` (seconds) says when to try again."""

    status = 400
    code = "domain_error"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        meta: dict | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.code
        self.pointer = pointer
        self.parameter = parameter
        self.meta = meta
        self.retry_after = retry_after


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unauthenticated(DomainError):
    status = 401
    code = "invalid_credentials"


class Invalid(DomainError):
    status = 422
    code = "invalid"


class Gone(DomainError):
    status = 410
    code = "gone"


class TooSoon(DomainError):
    status = 429
    code = "too_soon"
