r"""What the OpenAPI document says of the server's rules beyond marshmallow's own field types.

Generated clients and validators (schemathesis in CI) must agree with the server, so the document states,
from the same schemas that validate requests:

- no string anywhere may hold a NUL (`courrier.http` refuses it in every query parameter and JSON
  string); a trimmed string (`NoWhitespaceString`) with a minimum length must hold more than
  whitespace (`courrier.schemas.SPACES`, written out in the pattern: `\s` differs between engines),
  and one validated by `no_control_characters` refuses every control character once trimmed;
- a field its schema reads "" as no value (`blank_fields`) takes "" besides its format or its values;
- a nullable nested object is that object or null (apispec writes "that object, or any object");
- a PATCH body whose schema refuses emptiness (its `check_not_empty` validator) has `minProperties: 1`;
- a schema's rules between fields (`required_either`, `required_when`, see `courrier.schemas.Schema`)
  become `anyOf` alternatives: OpenAPI 3.0 has no `if`/`then`, so "b when a is x" is "a is not x, or b";
- a new password (metadata `password_policy`) has the lengths the policy applies to every role: at least
  the smaller configured minimum, in characters as JSON Schema counts them, and at most 72 characters
  (bcrypt's 72 bytes; the rest of the policy, by role, bytes and zxcvbn, is in its description), and no
  control character.

A field whose metadata already gives a `pattern`, a `format` (dates, e-mails, files) or an `enum` keeps it.
"""
import marshmallow
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin

from courrier.auth.passwords import MAX_PASSWORD_BYTES
from courrier.schemas import SPACE_CHARACTERS, NoWhitespaceString

NO_NUL = r"[^\x00]"
NO_CONTROL = r"[^\x00-\x1f\x7f-\x9f]"
SPACE = f"[{SPACE_CHARACTERS}]"
NOT_SPACE = {NO_NUL: rf"[^{SPACE_CHARACTERS}\x00]", NO_CONTROL: rf"[^{SPACE_CHARACTERS}\x00-\x1f\x7f-\x9f]"}


def refuses_control_characters(field):
    return any(getattr(validator, "__name__", "") == "no_control_characters" for validator in field.validators)


def string_pattern(field):
    """The regular expression of what the server accepts in this string field."""
    allowed = NO_CONTROL if refuses_control_characters(field) else NO_NUL
    if not isinstance(field, NoWhitespaceString):
        return f"^{allowed}*$"
    minimum = min((v.min for v in field.validators if isinstance(v, marshmallow.validate.Length) and v.min), default=0)
    if minimum:
        return rf"^{SPACE}*{allowed}*{NOT_SPACE[allowed]}{allowed}*{SPACE}*$"
    return rf"^{SPACE}*{allowed}*{SPACE}*$"


def string_constraints(self, field, ret, **kwargs):
    """apispec attribute function: the pattern of a string field the server restricts beyond its type."""
    if not isinstance(field, marshmallow.fields.String) or {"pattern", "format", "enum"} & set(ret):
        return {}
    return {"pattern": string_pattern(field)}


def blank_is_no_value(self, field, ret, **kwargs):
    """apispec attribute function: "" besides the format or the values of a field where it means none."""
    if field.name not in getattr(field.parent, "blank_fields", ()):
        return {}
    if "enum" in ret:
        return {"enum": [*ret["enum"], ""]}
    if "format" in ret:
        return {"anyOf": [{"format": ret.pop("format")}, {"maxLength": 0}]}
    return {}


NULLABLE_ANY_OBJECT = {"type": "object", "nullable": True}


def nested_or_null(self, field, ret, **kwargs):
    """apispec attribute function: the `null` alternative of a nullable nested schema admits null alone."""
    if NULLABLE_ANY_OBJECT not in ret.get("anyOf", ()):
        return {}
    return {"anyOf": [{**NULLABLE_ANY_OBJECT, "enum": [None]} if alternative == NULLABLE_ANY_OBJECT else alternative
                      for alternative in ret["anyOf"]]}


def password_lengths(min_length):
    """apispec attribute function: the length bounds of a new password, whatever the account's role, and its
    characters (no control character)."""

    def lengths(self, field, ret, **kwargs):
        if not field.metadata.get("password_policy"):
            return {}
        return {"minLength": min_length, "maxLength": MAX_PASSWORD_BYTES, "pattern": f"^{NO_CONTROL}*$"}

    return lengths


class ServerRulesPlugin(BasePlugin):
    """Adds the rules above to every field and schema flask-smorest documents; `config` is the app's."""

    def __init__(self, config):
        self.password_min_length = min(config["PASSWORD_MIN_LENGTH"], config["PASSWORD_MIN_LENGTH_PRIVILEGED"])

    def init_spec(self, spec):
        marshmallow_plugin = next(plugin for plugin in spec.plugins if isinstance(plugin, MarshmallowPlugin))
        marshmallow_plugin.converter.add_attribute_function(string_constraints)
        marshmallow_plugin.converter.add_attribute_function(blank_is_no_value)
        marshmallow_plugin.converter.add_attribute_function(nested_or_null)
        marshmallow_plugin.converter.add_attribute_function(password_lengths(self.password_min_length))

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        schema_class = schema if isinstance(schema, type) else type(schema)
        rules = {}
        if hasattr(schema_class, "check_not_empty"):
            rules["minProperties"] = 1
        alternatives = [{"anyOf": [given(field) for field in fields]}
                        for fields in getattr(schema_class, "required_either", ())]
        alternatives += [{"anyOf": [{"not": {"required": [other], "properties": {other: {"enum": list(values)}}}},
                                    given(field)]}
                         for field, (other, values, _) in getattr(schema_class, "required_when", {}).items()]
        if alternatives:
            rules["allOf"] = alternatives
        return rules or None


def given(field):
    """A field sent with a value the server counts as given (a string holding more than spaces)."""
    return {"required": [field], "properties": {field: {"type": "string", "pattern": f"[^{SPACE_CHARACTERS}]"}}}
