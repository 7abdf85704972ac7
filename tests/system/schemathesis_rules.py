"""The rules no JSON Schema keyword can state, which the schemathesis hooks forgive (schemathesis_hooks.py).

Apart from the hooks, which register themselves with schemathesis when imported (for the whole process),
so that the suite can test these patterns without turning the hooks on for the in-process fuzz.
"""
import re

# Each: why the document cannot say it, and the messages (regular expressions, whole messages) of the rule.
# Refusals with another status than 422 (409 for a state, 403, 404) are not this check's business.
RULES_BEYOND_THE_DOCUMENT = {
    "compares two fields (a period, a primary service among the services, one of code or recovery code, "
    "a postcode with its country written any way, a contact with the one of the URL)": [
        r"^La fin de la période précède son début\.$", r"^La période ne peut pas dépasser 5 ans\.$",
        r"^Choisissez le tableau à exporter\.$",
        r"^Le service principal doit faire partie de la liste des services\.$",
        r"^Envoyez soit `code`, soit `recovery_code`\.$",
        r"^code_postal : Un code postal français compte 5 chiffres\.$",
        r"^Un correspondant ne peut pas être fusionné avec lui-même\.$",
        # Statable (`anyOf`: no responsable_id, or a service_id), but checked in documents/routing.py, not
        # by the schema: to move into DocumentCreateSchema's rules between fields.
        r"^Choisissez d'abord le service traitant\.$",
    ],
    "names rows that must exist, or be unique, in the database": [
        r"^Service parent inconnu\.$", r"^(Service|Utilisateur)\(s\) inconnu\(s\) ou désactivé\(s\) : .+\.$",
        r"^Typologie inconnue ou désactivée\.$", r"^Correspondant inconnu\.$",
        r"^Ce code est déjà utilisé par (un autre service|une autre typologie)\.$",
        r"^Cette adresse e-mail est déjà utilisée\.$",
        r"^Le responsable doit être un membre actif du service traitant\.$",
        r"^Un service ne peut pas être placé sous lui-même ni sous l'un de ses sous-services\.$",
        r"^Le bureau du courrier est déjà le service .+ : retirez-lui d'abord ce rôle\.$",
    ],
    "depends on the stored resource (a PATCH keeps the contact's type; the mail office stays active; a draft's "
    "registration keeps the fields the body leaves out, which may be empty)": [
        r"^Obligatoire pour une (personne|organisation)\.$", r"^Champ obligatoire pour enregistrer le courrier\.$",
        r"^Le bureau du courrier ne peut pas être désactivé : retirez-lui d'abord ce rôle\.$",
    ],
    "compares a date with today's (Paris) date": [
        r"^L'accusé de réception ne peut pas être daté de demain ou plus tard\.$",
    ],
    "checks a secret (the current password, a one-time code)": [
        r"^Mot de passe actuel incorrect\.$", r"^Mot de passe incorrect\.$", r"^Mot de passe ou code incorrect\.$",
        r"^Code incorrect : vérifiez l'heure de votre téléphone et réessayez\.$", r"^Code incorrect ou déjà utilisé\.$",
        r"^Saisissez le code de votre application d'authentification\.$",
    ],
    "is the password policy: characters counted by role and settings, then bytes, then zxcvbn": [
        r"^Le mot de passe doit contenir au moins \d+ caractères( pour un compte validateur ou administrateur)?\.$",
        r"^Le mot de passe ne doit pas dépasser \d+ octets en UTF-8 ",
        r"^Ce mot de passe figure dans les listes de mots de passe courants : choisissez-en un autre\.$",
        r"^Mot de passe trop facile à deviner : allongez-le ou mélangez des mots inattendus\.$",
        r"^La confirmation ne correspond pas au mot de passe\.$",
    ],
    "reads a file's content (PDF, PNG or JPEG — TIFF too for scans — by its first bytes, whatever its declared "
    "type)": [
        r"^Type de fichier non accepté : PDF, PNG ou JPEG uniquement", r"^Le fichier est vide\.$",
        r"^« .* » : type non accepté, PDF, PNG, JPEG ou TIFF uniquement", r"^« .* » est vide\.$",
    ],
}
# DOTALL: a message may quote what was sent (unknown ids), control characters and line breaks included.
PATTERNS = [re.compile(pattern, re.DOTALL) for patterns in RULES_BEYOND_THE_DOCUMENT.values() for pattern in patterns]


def beyond_the_document(message):
    return any(pattern.search(message) for pattern in PATTERNS)
