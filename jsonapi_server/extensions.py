"""Unbound extension singletons; bound to an application in create_app()."""

from flask import has_app_context
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy import MetaData

from .jsonapi.current import request_globals
from .jwt_manager import VerifiedOnceJWTManager

# Named constraints make migrations reproducible and downgradable on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# g's key for the connection a GET or HEAD request reads on (connections.read_connection).
READ_CONNECTION = "jsonapi_server_read_connection"


class RequestSession(Session):
    """The ORM session, which in a GET or HEAD request works on the connection the request's
    records were read on (connections.read_connection), not on one more from the pool."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and has_app_context():
            held = request_globals().get(READ_CONNECTION)
            if held is not None:
                return held[0]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


db = SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING_CONVENTION),
    session_options={"class_": RequestSession},
)
migrate = Migrate()
jwt = VerifiedOnceJWTManager()
mail = Mail()
cors = CORS()
# Counted per client address; behind a proxy that address comes from X-Forwarded-For as far
# as PROXY_FIX_X_FOR trusts it (ProxyFix sets remote_addr).
limiter = Limiter(key_func=get_remote_address)
