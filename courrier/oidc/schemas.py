"""ProConnect request and response schemas (they validate, serialise and document the same fields)."""
import marshmallow
from marshmallow import fields

from courrier.schemas import MessageEnvelopeSchema, Schema, length


class OidcConfigSchema(Schema):
    """What the login screen needs to show the ProConnect button."""

    enabled = fields.Boolean(metadata={"description": "ProConnect est configuré (OIDC_ISSUER)."})
    label = fields.String(allow_none=True, metadata={"description": "Texte du bouton (OIDC_LABEL)."})


class OidcCallbackArgsSchema(Schema):
    """The provider's answer in the callback's query string; other parameters it adds are ignored."""

    class Meta:
        unknown = marshmallow.EXCLUDE

    code = fields.String(validate=length(max=2048))
    state = fields.String(validate=length(max=256))
    iss = fields.String(validate=length(max=2048), metadata={"description": "RFC 9207 : l'émetteur de la réponse."})
    error = fields.String(validate=length(max=256))
    error_description = fields.String(validate=length(max=2048))


class OidcTicketSchema(Schema):
    ticket = fields.String(required=True, validate=length(min=1, max=128),
                           metadata={"description": "Le ticket à usage unique reçu dans `/#/oidc?ticket=…` (30 s)."})


class LogoutDataSchema(Schema):
    end_session_url = fields.String(metadata={
        "description": "Pour une session ouverte avec ProConnect : l'URL de déconnexion du fournisseur "
                       "(id_token_hint, state, post_logout_redirect_uri) que le client web suit."})


class LogoutEnvelopeSchema(MessageEnvelopeSchema):
    """Logout's answer: `data` is null, or carries the provider's logout URL for a ProConnect session."""

    data = fields.Nested(LogoutDataSchema, dump_default=None, allow_none=True)
