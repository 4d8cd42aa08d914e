"""`deleted_records`: tombstones of hard deletes, pulled by offline clients."""

from jsonapi_server.jsonapi.operations import describe
from jsonapi_server.jsonapi.responses import listing_response, query_params
from jsonapi_server.services import deleted_records
from schemas.organizations import DeletedRecordSchema

from .auth import authenticated, current_user
from .blueprint import api


# The hyphenated spelling is registered first (the lower decorator): url_for builds it.
@api.get("/deleted_records")
@api.get("/deleted-records")
@describe(
    "list",
    DeletedRecordSchema,
    collection=deleted_records.DELETED_RECORD_LISTING,
    many=True,
    summary="Tombstones of deleted resources",
)
@authenticated
def list_deleted_records():
    params = query_params(DeletedRecordSchema, collection=deleted_records.DELETED_RECORD_LISTING)
    result = deleted_records.list_deleted_records(current_user(), params)
    return listing_response(DeletedRecordSchema, result, params)
