"""Every model of the application, imported in one place so the metadata (and migrations) see them all."""
from courrier.audit.models import AuditAnchor, AuditEvent
from courrier.auth.models import AuthSession, User
from courrier.background import Job
from courrier.capture.models import CapturedMessage
from courrier.contacts.models import Contact
from courrier.documents.models import Attachment, Document, DocumentEvent, ReferenceCounter
from courrier.notifications.models import Notification
from courrier.oidc.models import OidcIdentity, OidcPendingLogin, OidcSessionHint, OidcTicket
from courrier.services.models import Service, ServiceMember
from courrier.statistics.models import DailyCount, DurationCount, LetterFacts, MonthlyCount
from courrier.typologies.models import Typologie

__all__ = ["AuditAnchor", "AuditEvent", "AuthSession", "User", "Job", "CapturedMessage", "Contact", "Attachment",
           "Document", "DocumentEvent", "ReferenceCounter", "Notification", "OidcIdentity", "OidcPendingLogin",
           "OidcSessionHint", "OidcTicket", "Service", "ServiceMember", "Typologie", "DailyCount", "DurationCount",
           "LetterFacts", "MonthlyCount"]
