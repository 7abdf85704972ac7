"""What a letter's history says of a routing: what changed, not only the two states.

An `assigned` entry keeps both states whole (`from`, `to`: what the notifications and the audit read), and
says what the routing changed: `changed` lists the parts that differ (service, responsable, copies), and
`copies_added` / `copies_removed` name the copies, so that a routing that only adds a copy reads as that,
not as « Service : URBA → URBA ».
"""

ROUTING_PARTS = ("service", "responsable", "copies")
COPY_KINDS = ("services", "users")


def _ids(items):
    return [item["id"] for item in items]


def _key(part, state):
    """What identifies a part of a routing state: ids, so that a renamed service is not a change."""
    value = state[part]
    if part == "copies":
        return {kind: sorted(_ids(value[kind])) for kind in COPY_KINDS}
    return value["id"] if value else None


def _copies_diff(before, after):
    """The copies in `after` and not in `before`, per kind, as `after` names them."""
    return {kind: [item for item in after[kind] if item["id"] not in set(_ids(before[kind]))] for kind in COPY_KINDS}


def routing_change(before, after, motif=None):
    """The details of an `assigned` history entry (and of its audit event) from the routing states."""
    changed = [part for part in ROUTING_PARTS if _key(part, before) != _key(part, after)]
    details = {"from": before, "to": after, "changed": changed}
    if "copies" in changed:
        details["copies_added"] = _copies_diff(before["copies"], after["copies"])
        details["copies_removed"] = _copies_diff(after["copies"], before["copies"])
    if motif:
        details["motif"] = motif
    return details
