"""Who may call the publications' routes (merged into smartcity.security.policy.POLICY through
smartcity.opendata.policy): publishers (administrators and data publishers) list them and run them."""

from __future__ import annotations

from smartcity.security.policy import CURATORS, Rule

POLICY: dict[str, Rule] = {
    "opendata_list_publications": Rule("opendata.publication.read", CURATORS, audit=False),
    "opendata_run_publication": Rule("opendata.publication.run", CURATORS),
}
