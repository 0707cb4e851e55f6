"""Who may call the public site's routes (merged into smartcity.security.policy.POLICY): anyone; GET only."""

from __future__ import annotations

from smartcity.security.policy import Rule

POLICY: dict[str, Rule] = {
    "opendata_site_search": Rule("opendata.site.page", public=True),
    "opendata_site_dataset": Rule("opendata.site.page", public=True),
    "opendata_site_organizations": Rule("opendata.site.page", public=True),
    "opendata_site_organization": Rule("opendata.site.page", public=True),
    "opendata_site_groups": Rule("opendata.site.page", public=True),
    "opendata_site_group": Rule("opendata.site.page", public=True),
    "opendata_site_api": Rule("opendata.site.page", public=True),
    "opendata_site_asset": Rule("opendata.site.asset", public=True),
    "opendata_site_wards": Rule("opendata.site.wards", public=True),
}
