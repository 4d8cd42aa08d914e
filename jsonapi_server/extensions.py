"""Unbound extension singletons; bound to an application in create_app()."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

# Named constraints make migrations reproducible and downgradable on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The data-access layer sets the session's class and binds it (db.connections.init_app).
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()
jwt = JWTManager()
mail = Mail()
cors = CORS()
# Counted per client address; behind a proxy that address comes from X-Forwarded-For as far
# as PROXY_FIX_X_FOR trusts it (ProxyFix sets remote_addr).
limiter = Limiter(key_func=get_remote_address)
