"""Unbound extension objects; `create_app` binds them to the application."""
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_limiter.util import get_remote_address
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from courrier.errors import ErrorEnvelopeSchema

# Named constraints, so that SQLite batch migrations can alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
api = Api()
api.ERROR_SCHEMA = ErrorEnvelopeSchema  # document the envelope errors.py really sends, not flask-smorest's
cors = CORS()
