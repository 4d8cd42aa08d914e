"""`organizations`: the caller's organizations (a superadmin's: all of them)."""

from jsonapi_server.models import Organization
from jsonapi_server.services import organizations
from schemas.organizations import OrganizationSchema

from .resources import Resource, declare

declare(
    Resource(
        schema=OrganizationSchema,
        model=Organization,
        path="organizations",
        nested=False,
        listing=organizations.ORGANIZATION_LISTING,
        list_items=organizations.list_organizations,
        create=organizations.create_organization,
        show=organizations.get_organization,
        update=organizations.update_organization,
        delete=organizations.delete_organization,
    ),
)
