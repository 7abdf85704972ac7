"""The organisation tree (services) and who belongs to which service (memberships)."""
