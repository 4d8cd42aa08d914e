"""Content negotiation: the JSON:API media type, its ext/profile parameters, 415 and 406."""

from dataclasses import dataclass, field
from functools import lru_cache

from . import JSONAPI_MEDIA_TYPE
from .errors import JsonApiError

NEGOTIABLE_PARAMETERS = {"ext", "profile"}
# Extensions this server applies; none yet (atomic operations would be listed here).
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset()
# Plain JSON is accepted in requests for curl users; its parameters (charset) are harmless.
ACCEPTED_PLAIN_TYPES = {"application/json"}


@dataclass(frozen=True)
class MediaRange:
    type: str
    parameters: dict[str, str] = field(default_factory=dict)
    quality: float = 1.0

    @property
    def extensions(self) -> set[str]:
        return set(self.parameters.get("ext", "").split())


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """Split on `separator`, leaving quoted strings (which may contain it) whole."""
    parts, start, quoted, escaped = [], 0, False, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts]


def unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def parse_media_range(text: str) -> MediaRange:
    """Parse `type/subtype; a=b; q=0.5` (values quoted or not; `q` ends the media parameters)."""
    pieces = split_outside_quotes(text, ";")
    media_type = pieces[0].lower()
    parameters: dict[str, str] = {}
    quality = 1.0
    for piece in pieces[1:]:
        if not piece:
            continue
        name, _, value = piece.partition("=")
        name = name.strip().lower()
        if name == "q":
            try:
                quality = float(unquote(value))
            except ValueError:
                quality = 1.0
            break  # what follows q are accept-extensions, not media type parameters
        parameters[name] = unquote(value)
    return MediaRange(media_type, parameters, quality)


def parse_accept(header: str) -> list[MediaRange]:
    return [parse_media_range(item) for item in split_outside_quotes(header, ",") if item]


def is_acceptable_jsonapi(media: MediaRange) -> bool:
    """An instance of the JSON:API type this server can answer with."""
    if set(media.parameters) - NEGOTIABLE_PARAMETERS:
        return False
    return media.extensions <= SUPPORTED_EXTENSIONS


def check_content_type(header: str | None) -> None:
    """415 unless a request body is JSON:API without foreign parameters (or plain JSON)."""
    if not header:
        raise _unsupported(f"A request body must be sent as {JSONAPI_MEDIA_TYPE}.")
    media = parse_media_range(header)
    if media.type in ACCEPTED_PLAIN_TYPES:
        return
    if media.type != JSONAPI_MEDIA_TYPE:
        raise _unsupported(
            f"Content-Type {media.type} is not supported; send {JSONAPI_MEDIA_TYPE}."
        )
    foreign = sorted(set(media.parameters) - NEGOTIABLE_PARAMETERS)
    if foreign:
        raise _unsupported(
            f"{JSONAPI_MEDIA_TYPE} allows only the ext and profile parameters, "
            f"not {', '.join(foreign)}."
        )
    unsupported = media.extensions - SUPPORTED_EXTENSIONS
    if unsupported:
        raise _unsupported(
            f"Extension not supported: {' '.join(sorted(unsupported))}.",
            code="unsupported_extension",
        )


def _unsupported(detail: str, code: str = "unsupported_media_type") -> JsonApiError:
    return JsonApiError(415, code, detail, header="Content-Type")


def check_accept(header: str | None) -> None:
    """406 only when Accept names the JSON:API type and no instance of it is acceptable."""
    if not header or _can_answer(header):
        return
    raise JsonApiError(
        406,
        "not_acceptable",
        f"Every {JSONAPI_MEDIA_TYPE} in Accept carries a parameter or extension "
        "this server does not support.",
        header="Accept",
    )


@lru_cache(maxsize=256)  # headers come from clients, but most send one of a few
def _can_answer(accept: str) -> bool:
    """Whether a response can satisfy this Accept header: decided once per header text (each
    request brings one, and parsing goes character by character)."""
    instances = [m for m in parse_accept(accept) if m.type == JSONAPI_MEDIA_TYPE]
    if not instances:
        return True  # */*, application/json and friends are always served
    return any(is_acceptable_jsonapi(m) and m.quality > 0 for m in instances)
