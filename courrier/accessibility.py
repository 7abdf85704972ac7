"""GET /api/accessibilite: what the SPA's accessibility statement (#/accessibilite) takes from the deployment.

The statement itself is the SPA's page (RGAA's template); the contact to report a problem is the one
setting that differs from one administration to the next (ACCESSIBILITY_CONTACT). Public: the statement
must be readable by anyone, signed in or not.
"""
from flask import current_app
from flask_smorest import Blueprint
from marshmallow import fields

from courrier.schemas import Schema, envelope

blp = Blueprint("accessibilite", __name__, url_prefix="/api", description="Déclaration d'accessibilité")


class AccessibilityContactSchema(Schema):
    contact = fields.String(metadata={"description": "Adresse e-mail ou formulaire (https://) du contact."})
    contact_url = fields.String(metadata={"description": "Le lien à suivre : `mailto:` ou l'adresse du formulaire."})


def contact_link(contact):
    """`mailto:` for an e-mail address; a web form's address as it is."""
    return contact if contact.startswith(("https://", "http://")) else f"mailto:{contact}"


@blp.route("/accessibilite", methods=["GET"])
@blp.response(200, envelope(AccessibilityContactSchema))
def accessibility_contact():
    """The contact of the accessibility statement (public)."""
    contact = current_app.config["ACCESSIBILITY_CONTACT"]
    return {"data": {"contact": contact, "contact_url": contact_link(contact)}}
