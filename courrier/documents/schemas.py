"""Schemas of the mail register: they validate requests, dump documents and feed the OpenAPI document."""
import re

from flask import request
from marshmallow import ValidationError, fields, post_load, pre_load, validate, validates_schema

from courrier.auth.schemas import UserSummarySchema
from courrier.documents.models import DOCUMENT_TYPES, NATURES, PRIORITES, REGISTERED_NATURES, STATUTS, TEXTE_ETATS
from courrier.schemas import (
    IDENTIFIER, SPACE_CHARACTERS, SPACES, MetaSchema, NoWhitespaceString, PaginationArgsSchema, Schema,
    has_control_character, length, one_of,
)
from courrier.documents.bannettes import BANNETTES
from courrier.documents.register import REGISTER_ACTIONS
from courrier.documents.rules import ACTIONS
from courrier.documents.treatment import traitement_of
from courrier.services.schemas import ServiceSummarySchema
from courrier.typologies.schemas import TypologieSummarySchema

SORTS = ("pertinence", "date")
SERVER_FIELD = "Champ attribué par le serveur : il ne peut pas être envoyé."
FIXED_FIELD = "Ce champ ne peut pas être modifié."
DECISION_FIELD = "Le statut change par validation ou rejet (/validate, /reject), pas par modification."
ROUTING_FIELD = "L'imputation change par POST /api/documents/<id>/assign, pas par modification."
REPLY_FIELD = "Une réponse se crée par POST /api/documents/<id>/reponses."
REGISTERED_NUMBER_REQUIRED = "Le numéro de recommandé est obligatoire pour un envoi recommandé."


def refuse_fields(data, messages):
    """A 422 naming each forbidden field with its reason, rather than a bare "unknown field"."""
    if isinstance(data, dict):
        errors = {name: [message] for name, message in messages.items() if name in data}
        if errors:
            raise ValidationError(errors)


def no_control_characters(text):
    if has_control_character(text):
        raise ValidationError("Caractères de contrôle interdits.")


class Computed(fields.Nested):
    """A nested object computed from the whole document (documented in OpenAPI as its schema)."""

    def __init__(self, nested, compute, **kwargs):
        super().__init__(nested, **kwargs)
        self.compute = compute

    def get_value(self, obj, attr, accessor=None, default=None):
        return self.compute(obj)


class TraitementSchema(Schema):
    etat = fields.String(allow_none=True, metadata={"description": "a_traiter, en_cours, traite ; null tant que le "
                                                                   "courrier n'est pas validé et imputé."})
    echeance = fields.Date(allow_none=True, metadata={"description": "En jours ouvrés (jours fériés français)."})
    en_retard = fields.Boolean()
    bientot_en_retard = fields.Boolean(metadata={"description": "Échéance dans ALERTE_JOURS jours ouvrés."})
    traite_at = fields.DateTime(format="iso", allow_none=True)
    traite_par = fields.Nested(UserSummarySchema, allow_none=True)
    commentaire = fields.String(allow_none=True)
    mode = fields.String(metadata={"description": "normal, sva ou svr (de la typologie)."})
    silence = fields.String(allow_none=True, metadata={"description": "Ce que vaudra le silence à l'échéance."})


class ProposedSenderSchema(Schema):
    nom = fields.String(allow_none=True)
    email = fields.String()


class CopiesSchema(Schema):
    services = fields.List(fields.Nested(ServiceSummarySchema))
    users = fields.List(fields.Nested(UserSummarySchema))


def identifiers(description):
    return fields.List(fields.String(validate=IDENTIFIER), validate=validate.Length(
        max=100, error="Au plus 100 éléments."), metadata={"description": description})


class RoutingFieldsSchema(Schema):
    """The routing of a letter, at registration or by /assign."""

    service_id = fields.String(allow_none=True, validate=IDENTIFIER, metadata={"description": "Le service traitant."})
    responsable_id = fields.String(allow_none=True, validate=IDENTIFIER, metadata={
        "description": "Un membre actif du service traitant."})
    copie_service_ids = identifiers("Les services en copie (remplacent la liste actuelle).")
    copie_user_ids = identifiers("Les utilisateurs en copie (remplacent la liste actuelle).")


class AssignSchema(RoutingFieldsSchema):
    service_id = fields.String(required=True, validate=IDENTIFIER, metadata={"description": "Le service traitant."})
    motif = NoWhitespaceString(allow_none=True, validate=length(max=2000))


class ContactSummarySchema(Schema):
    id = fields.String()
    type = fields.String()
    civilite = fields.String(allow_none=True)
    nom = fields.String(allow_none=True)
    prenom = fields.String(allow_none=True)
    organisation = fields.String(allow_none=True)


class DocumentLinkSchema(Schema):
    """Another letter, as a link: the letter a reply answers, or a reply."""

    id = fields.String()
    reference = fields.String(allow_none=True)
    type = fields.String()
    objet = fields.String()
    statut = fields.String()


class SegmentSchema(Schema):
    texte = fields.String()
    surligne = fields.Boolean(metadata={"description": "Un mot trouvé par la recherche."})


class DocumentSchema(Schema):
    """A document as the API returns it (API.md section 5)."""

    id = fields.String()
    reference = fields.String(allow_none=True, metadata={
        "description": "null tant que le courrier est à qualifier (brouillon capturé ou numérisé) ou écarté."})
    type = fields.String()
    objet = fields.String()
    expediteur = fields.String()
    destinataire = fields.String()
    date_courrier = fields.Date(allow_none=True)
    date_reception = fields.Date(allow_none=True)
    priorite = fields.String()
    description = fields.String(allow_none=True)
    statut = fields.String()
    motif_rejet = fields.String(allow_none=True)
    motif_ecart = fields.String(allow_none=True, metadata={"description": "Pourquoi le brouillon a été écarté."})
    origine = fields.Function(lambda document: (document.capture or {}).get("origine", "saisie"), metadata={
        "type": "string", "enum": ["saisie", "courriel", "numerisation"],
        "description": "Saisi dans le formulaire, capturé d'une boîte aux lettres, ou numérisé."})
    expediteur_propose = Computed(
        ProposedSenderSchema, lambda document: (document.capture or {}).get("expediteur_propose"), allow_none=True,
        metadata={"description": "L'expéditeur d'un courriel capturé, absent de l'annuaire : le correspondant à "
                                 "créer (POST /api/contacts)."})
    created_by = fields.Nested(UserSummarySchema, allow_none=True, metadata={
        "description": "Qui l'a enregistré ; null pour un brouillon capturé d'une boîte aux lettres."})
    validated_by = fields.Nested(UserSummarySchema, allow_none=True)
    created_at = fields.DateTime(format="iso")
    updated_at = fields.DateTime(format="iso")
    validated_at = fields.DateTime(format="iso", allow_none=True)
    service = fields.Nested(ServiceSummarySchema, allow_none=True, metadata={"description": "Le service traitant."})
    responsable = fields.Nested(UserSummarySchema, allow_none=True)
    copies = fields.Nested(CopiesSchema)
    typologie = fields.Nested(TypologieSummarySchema, allow_none=True)
    traitement = Computed(TraitementSchema, traitement_of)
    lu = fields.Boolean(metadata={"description": "Ouvert par l'utilisateur qui fait la requête."})
    nature = fields.String()
    numero_recommande = fields.String(allow_none=True)
    date_accuse_reception = fields.Date(allow_none=True)
    expediteur_contact = fields.Nested(ContactSummarySchema, allow_none=True)
    destinataire_contact = fields.Nested(ContactSummarySchema, allow_none=True)
    en_reponse_a_id = fields.String(allow_none=True, metadata={"description": "La lettre à laquelle il répond."})
    extrait = fields.List(fields.Nested(SegmentSchema), metadata={"description": (
        "Avec q, dans la liste seulement : le passage trouvé, en segments de texte dont les mots trouvés ont "
        "surligne=true (des données, jamais du HTML) ; vide quand aucun passage n'est à montrer.")})
    actions = fields.List(fields.String(validate=one_of(tuple(ACTIONS))), metadata={"description": (
        "Ce que l'utilisateur qui fait la requête peut faire à ce courrier maintenant, calculé par les règles "
        "mêmes qui autorisent chaque action (une action absente serait refusée : 403 ou 409). modifier : "
        "PATCH ; valider, rejeter : /validate, /reject ; affecter : /assign ; prendre_en_charge, traiter, "
        "rouvrir : les étapes du traitement ; repondre : POST /reponses ; joindre : POST /attachments ; "
        "accuser_reception : POST /accuse-reception ; qualifier, ecarter : POST /qualifier, /ecarter (brouillons). "
        "D'autres actions pourront s'ajouter.")})


class DocumentDetailSchema(DocumentSchema):
    """One letter with its links, limited to the letters the caller may see."""

    en_reponse_a = fields.Nested(DocumentLinkSchema, allow_none=True, attribute="visible_en_reponse_a")
    reponses = fields.List(fields.Nested(DocumentLinkSchema), attribute="visible_reponses")


class RegisteredNumberField(NoWhitespaceString):
    """A registered-mail number: 2 letters or digits then 11 digits, spaces ignored, stored without them."""

    PATTERN = rf"^[{SPACE_CHARACTERS}]*(?:[A-Za-z0-9][{SPACE_CHARACTERS}]*){{2}}(?:[0-9][{SPACE_CHARACTERS}]*){{11}}$"
    WITHOUT_SPACES = str.maketrans("", "", SPACES)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata = {"pattern": self.PATTERN, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).translate(self.WITHOUT_SPACES).upper()
        if not re.fullmatch(r"[A-Z0-9]{2}[0-9]{11}", text):
            raise ValidationError("13 caractères : 2 lettres ou chiffres puis 11 chiffres (ex. 1A 123 456 789 01).")
        return text


class DocumentFieldsSchema(Schema):
    """The fields a client writes, shared by creation and modification."""

    objet = NoWhitespaceString(validate=length(min=1, max=255))
    expediteur = NoWhitespaceString(validate=length(min=1, max=255))
    destinataire = NoWhitespaceString(validate=length(min=1, max=255))
    date_courrier = fields.Date(allow_none=True, metadata={"description": "La date écrite sur le courrier."})
    date_reception = fields.Date(allow_none=True)
    priorite = fields.String(validate=one_of(PRIORITES))
    description = NoWhitespaceString(allow_none=True, validate=length(max=5000))
    typologie_id = fields.String(allow_none=True, validate=IDENTIFIER, metadata={
        "description": "Sa typologie : son délai de traitement remplace celui de la priorité."})
    expediteur_id = fields.String(allow_none=True, validate=IDENTIFIER, metadata={
        "description": "Le correspondant expéditeur ; `expediteur` en reprend le nom s'il est omis."})
    destinataire_id = fields.String(allow_none=True, validate=IDENTIFIER, metadata={
        "description": "Le correspondant destinataire ; `destinataire` en reprend le nom s'il est omis."})
    nature = fields.String(validate=one_of(NATURES))
    numero_recommande = RegisteredNumberField(allow_none=True, metadata={
        "description": "Obligatoire pour recommande et recommande_ar."})

    @post_load
    def empty_description_is_none(self, data, **kwargs):
        if data.get("description") == "":
            data["description"] = None
        return data


class DocumentCreateSchema(DocumentFieldsSchema, RoutingFieldsSchema):
    type = fields.String(required=True, validate=one_of(DOCUMENT_TYPES))
    objet = NoWhitespaceString(required=True, validate=length(min=1, max=255))
    expediteur = NoWhitespaceString(validate=length(min=1, max=255), metadata={
        "description": "Obligatoire, sauf avec `expediteur_id`."})
    destinataire = NoWhitespaceString(validate=length(min=1, max=255), metadata={
        "description": "Obligatoire, sauf avec `destinataire_id`."})
    date_reception = fields.Date(
        allow_none=True, metadata={"description": "Par défaut, la date du jour (à Paris) pour un courrier entrant."})
    priorite = fields.String(load_default="normale", validate=one_of(PRIORITES))
    nature = fields.String(load_default="courrier_simple", validate=one_of(NATURES))
    required_either = (("expediteur", "expediteur_id"), ("destinataire", "destinataire_id"))
    required_when = {"numero_recommande": ("nature", REGISTERED_NATURES, REGISTERED_NUMBER_REQUIRED)}

    @pre_load
    def refuse_server_fields(self, data, **kwargs):
        refuse_fields(data, {"reference": SERVER_FIELD, "statut": SERVER_FIELD, "en_reponse_a_id": REPLY_FIELD})
        return data


class ReplyCreateSchema(DocumentFieldsSchema):
    """A reply: every field optional; by default objet "Réponse : …", the letter's sender as destinataire."""

    required_when = DocumentCreateSchema.required_when


class AcknowledgementSchema(Schema):
    date = fields.Date(required=True, metadata={"description": "Date de l'accusé de réception revenu signé."})


class DocumentUpdateSchema(DocumentFieldsSchema):
    """PATCH: any subset of the writable fields; `type`, `statut` and `reference` never change."""

    @pre_load
    def refuse_fixed_fields(self, data, **kwargs):
        refuse_fields(data, {"type": FIXED_FIELD, "reference": FIXED_FIELD, "statut": DECISION_FIELD,
                             **{name: ROUTING_FIELD for name in RoutingFieldsSchema._declared_fields}})
        return data

    @validates_schema
    def check_not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Aucun champ à modifier : objet, expediteur, destinataire, date_courrier, "
                                  "date_reception, priorite, description, typologie_id, expediteur_id, "
                                  "destinataire_id, nature ou numero_recommande.")


class RejectSchema(Schema):
    motif = NoWhitespaceString(required=True, validate=length(min=1, max=2000))


class DocumentListArgsSchema(PaginationArgsSchema):
    statut = fields.String(validate=one_of(STATUTS))
    type = fields.String(validate=one_of(DOCUMENT_TYPES))
    priorite = fields.String(validate=one_of(PRIORITES))
    q = NoWhitespaceString(validate=[length(max=255), no_control_characters], metadata={
        "description": "Recherche plein texte, sans tenir compte de la casse ni des accents : chaque mot doit "
                       "figurer dans la référence, l'objet, l'expéditeur, le destinataire, le nom des "
                       "correspondants, le numéro de recommandé ou le texte des pièces jointes (formes des mots "
                       "en français sur PostgreSQL ; sur SQLite, le dernier mot vaut aussi pour préfixe). "
                       "Les guillemets, opérateurs et signes sont du texte ordinaire."})
    tri = fields.String(validate=one_of(SORTS), metadata={
        "description": "pertinence (par défaut avec q : les meilleurs résultats d'abord, à égalité les plus "
                       "récents) ou date (les plus récents d'abord ; seul tri sans q)."})
    date_from = fields.Date(metadata={"description": "Enregistrés ce jour-là (UTC) ou après (AAAA-MM-JJ)."})
    date_to = fields.Date(metadata={"description": "Enregistrés ce jour-là (UTC) ou avant (AAAA-MM-JJ)."})
    service_id = fields.String(validate=IDENTIFIER, metadata={"description": "Le service traitant."})
    sous_services = fields.Boolean(load_default=False, metadata={
        "description": "Avec `service_id` : ce service et tous ses sous-services."})
    responsable_id = fields.String(validate=IDENTIFIER)
    non_affecte = fields.Boolean(load_default=False, metadata={"description": "Sans service traitant."})
    bannette = fields.String(validate=one_of(tuple(BANNETTES)), metadata={
        "description": "Le contenu d'une bannette (GET /api/bannettes)."})

    @validates_schema
    def check_period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError("La fin de la période précède son début.", "date_to")


class CommentSchema(Schema):
    commentaire = NoWhitespaceString(allow_none=True, validate=length(max=5000))


class ReopenSchema(Schema):
    motif = NoWhitespaceString(required=True, validate=length(min=1, max=2000))


class BannetteSchema(Schema):
    code = fields.String()
    libelle = fields.String()
    count = fields.Integer()


class HistoryEntrySchema(Schema):
    action = fields.String()
    actor = fields.Nested(UserSummarySchema, allow_none=True)
    at = fields.DateTime(format="iso")
    details = fields.Dict(allow_none=True)


class AttachmentTextSchema(Schema):
    etat = fields.String(metadata={"enum": list(TEXTE_ETATS), "description": (
        "en_attente (lecture pas encore faite), extrait (texte du fichier), reconnu (par OCR), aucun (pas de "
        "texte), echec (fichier illisible : voir motif), indisponible (OCR non installé sur le serveur).")})
    motif = fields.String(allow_none=True, metadata={"description": "Pourquoi, en français ; null si tout va bien."})


class AttachmentReadTextSchema(AttachmentTextSchema):
    texte = fields.String(allow_none=True, metadata={"description": (
        "Le texte lu (extrait ou reconnu), tel que la recherche l'indexe ; null tant qu'il n'y en a pas.")})


class AttachmentSchema(Schema):
    id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    created_at = fields.DateTime(format="iso")
    uploaded_by = fields.Nested(UserSummarySchema, allow_none=True, metadata={"description": "Qui l'a ajoutée."})
    texte = Computed(AttachmentTextSchema, lambda attachment: {
        "etat": attachment.texte_etat, "motif": attachment.texte_motif}, metadata={
        "description": "Où en est la lecture de son texte (pour la recherche) ; le texte lui-même n'est pas renvoyé."})
    ocr = fields.Function(lambda attachment: (
        f"/api/documents/{attachment.document_id}/attachments/{attachment.id}/ocr"
        if attachment.ocr_storage_name else None), allow_none=True, metadata={
        "type": "string", "description": "Le PDF cherchable que l'OCR a fait d'un scan (URL de l'API), sinon null."})


class AttachmentUploadSchema(Schema):
    """The multipart body of an upload: one file in the field `file`."""

    file = fields.Raw(required=True, metadata={
        "type": "string", "format": "binary",
        "description": "PDF, PNG ou JPEG (type reconnu au contenu) ; taille maximale ATTACHMENT_MAX_BYTES."})

    @validates_schema
    def refuse_other_parts(self, data, **kwargs):
        """Loaded from the body's files: its other parts (plain form fields) are unknown fields too."""
        if request.form:
            raise ValidationError({name: [self.error_messages["unknown"]] for name in request.form})


class RegisterMetaSchema(MetaSchema):
    """The register's page, and what the caller may do with the register as a whole."""

    actions = fields.List(fields.String(validate=one_of(REGISTER_ACTIONS)), metadata={"description": (
        "exporter_registre : l'utilisateur peut exporter le registre chronologique (GET /api/registre).")})


RegisterPageEnvelopeSchema = Schema.from_dict({
    "success": fields.Boolean(dump_default=True),
    "message": fields.String(),
    "data": fields.Nested(DocumentSchema, many=True),
    "meta": fields.Nested(RegisterMetaSchema),
}, name="RegisterPageEnvelopeSchema")
