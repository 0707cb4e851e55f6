"""Who may call the DCAT-AP routes (merged into smartcity.security.policy.POLICY): anyone; they show public
datasets only."""

from __future__ import annotations

from smartcity.security.policy import Rule, _public

POLICY: dict[str, Rule] = {
    "dcat_catalog": _public("opendata.dcat.catalog.read"),
    "dcat_catalog_fmt": _public("opendata.dcat.catalog.read"),
    "dcat_dataset": _public("opendata.dcat.dataset.read"),
    "dcat_dataset_fmt": _public("opendata.dcat.dataset.read"),
}
