"""The open data portal's rows of the platform's policy table, one dictionary per part."""

from __future__ import annotations

from smartcity.security.policy import Rule

# each part adds its POLICY here (``from smartcity.opendata.<part>.policy import POLICY as <PART>``)
POLICY: dict[str, Rule] = {}
