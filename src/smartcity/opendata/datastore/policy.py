"""Who may call the datastore's routes (merged into smartcity.security.policy.POLICY): downloads are public."""

from __future__ import annotations

from smartcity.security.policy import Rule, _public

POLICY: dict[str, Rule] = {
    "datastore_dump": _public("opendata.datastore.dump"),
}
