"""The vendor side in the admin: one module per screen family, registered on import."""

from . import binding_review, customers, fields  # noqa: F401
