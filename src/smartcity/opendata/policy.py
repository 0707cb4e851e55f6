"""The open data portal's rows of the platform's policy table, one dictionary per part."""

from __future__ import annotations

from smartcity.opendata.ckan.policy import POLICY as CKAN
from smartcity.opendata.datastore.policy import POLICY as DATASTORE
from smartcity.opendata.dcat.policy import POLICY as DCAT
from smartcity.opendata.publish.policy import POLICY as PUBLISH
from smartcity.opendata.site.policy import POLICY as SITE
from smartcity.security.policy import Rule

# each part adds its POLICY here (``from smartcity.opendata.<part>.policy import POLICY as <PART>``)
POLICY: dict[str, Rule] = {**CKAN, **DATASTORE, **DCAT, **PUBLISH, **SITE}
