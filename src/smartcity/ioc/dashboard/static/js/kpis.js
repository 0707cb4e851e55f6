// The KPI tiles, from GET /ioc/kpis (every figure computed by the platform from the data).
import { duration, pick, t } from "./i18n.js";

function tile(key, value, note) {
  const div = document.createElement("div");
  div.className = "tile";
  div.dataset.kpi = key;
  div.innerHTML = "<div class=\"label\"></div><div class=\"value\"></div><div class=\"note\"></div>";
  div.children[0].textContent = t(`kpi.${key}`);
  div.children[1].textContent = value ?? t("kpi.na");
  div.children[2].textContent = note ?? "";
  return div;
}

const percent = (share) => (share == null ? null : `${Math.round(share * 100)} %`);

export function render(container, k) {
  if (!k) return;
  const worst = k.air?.wards?.[0];
  const a = k.alerts;
  const i = k.incidents;
  container.replaceChildren(
    tile("alerts", a?.active, a ? `${a.unacknowledged} ${t("kpi.unacked")}` : null),
    tile("incidents", i?.open, i ? `${i.slaBreached} ${t("kpi.breached")}` : null),
    tile("mtta", a ? duration(a.mttaSeconds) : null),
    tile("mttr", i ? duration(i.mttrSeconds) : a ? duration(a.mttrSeconds) : null),
    tile("reports", percent(k.reports?.onTimeShare), k.reports?.total != null ? `${k.reports.total}` : null),
    tile("aqi", worst ? worst.max : null, worst ? pick({ vi: worst.name, en: worst.nameEn }) : null),
    tile("flood", k.flood.flooded, `${t("kpi.of")} ${k.flood.gauges} ${t("kpi.gauges")}`),
    tile("parking", k.parking.free, `${t("kpi.of")} ${k.parking.total}`),
    tile("buses", k.buses.inService, `${t("kpi.of")} ${k.buses.vehicles}`),
  );
}
