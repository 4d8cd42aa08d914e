"""Tombstones of hard deletes (organizations, channels), listed to those who could see them."""

from jsonapi_server.db import Filter, Listing, parse_since
from jsonapi_server.models import DeletedRecord, User

from . import sync


def parse_types(raw: str) -> list[str]:
    types = [part.strip().replace("-", "_") for part in raw.split(",") if part.strip()]
    unknown = [type_ for type_ in types if type_ not in sync.TOMBSTONED_TYPES]
    if not types or unknown:
        raise ValueError(f"a comma-separated list of {', '.join(sync.TOMBSTONED_TYPES)}")
    return types


DELETED_RECORD_LISTING = Listing(
    sorts={"deleted_at": DeletedRecord.deleted_at},
    id_column=DeletedRecord.id,
    version_column=DeletedRecord.updated_in_db_at,
    default_sort="-deleted_at",
    filters_by_name={
        "types": Filter(
            parse_types,
            lambda statement, types: statement.where(DeletedRecord.deletable_type.in_(types)),
        ),
        "updated_since": Filter(parse_since),
    },
)


def list_deleted_records(user: User, query):
    return DELETED_RECORD_LISTING.fetch(sync.deleted_records_for(user.id), query)
