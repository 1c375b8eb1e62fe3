"""The attribute classes Glance's API distinguishes, and which names a request may set."""

from __future__ import annotations

from firebrick.errors import InvalidInput, NotPermitted

__all__ = ["CORE", "READ_ONLY", "RESERVED", "check_property_name"]

# Set by the service only; a request that names one is refused (403), as Glance does.
READ_ONLY = frozenset(
    {"created_at", "updated_at", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
     "direct_url", "self", "file", "schema", "id", "stores"}
)  # fmt: skip
RESERVED = frozenset({"location", "locations", "deleted", "deleted_at"})
# Writable attributes that are columns, not custom properties.
CORE = frozenset(
    {"name", "visibility", "protected", "os_hidden", "disk_format", "container_format", "min_disk", "min_ram",
     "tags", "owner"}
)  # fmt: skip
_RESERVED_PREFIX = "os_glance"


def check_property_name(name: str) -> None:
    """Refuse an attribute a request may not set.

    Raises:
        NotPermitted: for a read-only or reserved attribute (Glance's 403).
        InvalidInput: for an empty or over-long name.
    """
    if name in READ_ONLY:
        raise NotPermitted(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(_RESERVED_PREFIX):
        raise NotPermitted(f"Attribute '{name}' is reserved.")
    if not 0 < len(name) <= 255:
        raise InvalidInput(f"Invalid property name: '{name}'")
