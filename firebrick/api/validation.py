"""Request bodies checked against JSON schemas, with Cinder's parameter types and messages.

A failure is a 400 whose message names the field, e.g.
``Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1``.
"""

from __future__ import annotations

from typing import Any

import jsonschema
from jsonschema import Draft4Validator

from firebrick.errors import InvalidInput

__all__ = [
    "BOOLEAN",
    "DESCRIPTION",
    "METADATA",
    "NAME",
    "Schema",
    "UUID",
    "UUID_OR_NULL",
    "VOLUME_SIZE",
    "as_bool",
]

TRUE_STRINGS = ("True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y", "t")
FALSE_STRINGS = ("False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", "n", "f")

BOOLEAN: dict[str, Any] = {"type": ["boolean", "string"], "enum": [True, *TRUE_STRINGS, False, *FALSE_STRINGS]}
NAME: dict[str, Any] = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
DESCRIPTION = NAME
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
UUID_OR_NULL: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
VOLUME_SIZE: dict[str, Any] = {
    "type": ["integer", "string"],
    "pattern": "^[0-9]+$",
    "minimum": 1,
    "maximum": 2147483647,
}
METADATA: dict[str, Any] = {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. /]{1,255}$": {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}

_FORMATS = jsonschema.FormatChecker(("uuid",))


class Schema:
    """A compiled schema; ``check`` raises InvalidInput with Cinder's wording."""

    def __init__(self, schema: dict[str, Any]) -> None:
        Draft4Validator.check_schema(schema)
        self._validator = Draft4Validator(schema, format_checker=_FORMATS)

    def check(self, body: Any) -> None:
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(body))
        if error is None:
            return
        if error.validator in ("required", "additionalProperties", "minProperties", "maxProperties"):
            raise InvalidInput(error.message)
        field = error.path[-1] if error.path else ""
        raise InvalidInput(f"Invalid input for field/attribute {field}. Value: {error.instance}. {error.message}")


def as_bool(value: Any) -> bool:
    """A value already validated against BOOLEAN, as a bool."""
    return value is True or value in TRUE_STRINGS
