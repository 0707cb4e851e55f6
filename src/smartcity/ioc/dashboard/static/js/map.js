// The city map: the wards drawn from their polygons (no tile server), live layers as SVG markers.
import { pick, t, when } from "./i18n.js";

const L = window.L;
const CENTRE = [10.78, 106.7];
export const LAYERS = ["stations", "floods", "buses", "parking", "traffic", "weather", "alerts", "reports"];
const HIDDEN_AT_START = new Set(["traffic", "weather"]);
const SEVERITY_COLOUR = { critical: "#7e0023", major: "#d7301f", minor: "#f08c00", warning: "#e6b800", info: "#5b6775" };
const FLOOD_COLOUR = { normal: "#4a90d9", alert: "#f08c00", danger: "#d7301f" };
const SHOWN = {
  stations: ["airQualityIndex", "category", "dominantPollutant", "pm25", "pm10", "temperature", "observedAt"],
  floods: ["currentLevel", "floodLevelStatus", "observedAt"],
  buses: ["routeNumber", "speed", "observedAt"],
  parking: ["availableSpotNumber", "totalSpotNumber", "observedAt"],
  traffic: ["averageVehicleSpeed", "congested", "observedAt"],
  weather: ["temperature", "precipitation", "relativeHumidity", "windSpeed", "observedAt"],
};

const latLng = (geometry) => {
  if (!geometry) return null;
  if (geometry.type === "Point") return [geometry.coordinates[1], geometry.coordinates[0]];
  try { return L.geoJSON(geometry).getBounds().getCenter(); } catch { return null; }
};

function style(layer, attrs) {
  switch (layer) {
    case "stations": return { radius: 10, color: "#333", weight: 1, fillColor: attrs.colour || "#9aa5b1", fillOpacity: 0.9 };
    case "floods": return { radius: 8, color: "#123", weight: 1, fillColor: FLOOD_COLOUR[attrs.floodLevelStatus] || "#4a90d9", fillOpacity: 0.9 };
    case "buses": return { radius: 5, color: "#7a3e00", weight: 1, fillColor: "#ff9d2e", fillOpacity: 1 };
    case "parking": return { radius: 7, color: "#3b1f66", weight: 1, fillColor: "#8e6cc9", fillOpacity: 0.9 };
    case "traffic": return { radius: 6, color: "#222", weight: 1, fillColor: attrs.congested ? "#d7301f" : "#2e9e4f", fillOpacity: 0.9 };
    default: return { radius: 6, color: "#0b4f2c", weight: 1, fillColor: "#58b368", fillOpacity: 0.8 };
  }
}

function label(layer, attrs) {
  const main = { stations: attrs.airQualityIndex, floods: attrs.currentLevel, parking: attrs.availableSpotNumber,
    buses: attrs.routeNumber, traffic: attrs.averageVehicleSpeed, weather: attrs.temperature }[layer];
  return `${attrs.name ?? ""}${main != null ? ` · ${main}` : ""}`;
}

const escape = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export class CityMap {
  constructor(element, onPick) {
    this.map = L.map(element, { minZoom: 8, maxZoom: 18, zoomSnap: 0.5 }).setView(CENTRE, 11);
    this.map.attributionControl.setPrefix("Leaflet");
    this.onPick = onPick;
    this.wardLayer = null;
    this.groups = {};
    this.markers = {};
    for (const key of LAYERS) {
      this.groups[key] = L.layerGroup();
      if (!HIDDEN_AT_START.has(key)) this.groups[key].addTo(this.map);
      this.markers[key] = new Map();
    }
  }

  toggles(fieldset) {
    for (const key of ["wards", ...LAYERS]) {
      const row = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = key;
      box.checked = !HIDDEN_AT_START.has(key);
      box.addEventListener("change", () => {
        const group = key === "wards" ? this.wardLayer : this.groups[key];
        if (group) box.checked ? group.addTo(this.map) : group.remove();
      });
      const text = document.createElement("span");
      text.dataset.i18n = `layer.${key}`;
      text.textContent = t(`layer.${key}`);
      row.append(box, " ", text);
      fieldset.append(row);
    }
  }

  wards(collection) {
    this.wardLayer = L.geoJSON(collection, {
      className: "ward",
      style: () => ({ color: "#4d6275", weight: 1, fillColor: "#ffffff", fillOpacity: 0.55 }),
      onEachFeature: (feature, layer) => { layer.feature = feature; layer.bindTooltip("", { sticky: true }); },
    }).addTo(this.map);
    this.wardLayer.bringToBack();
    this.relabel();
    this.map.setView(CENTRE, this.map.getSize().x < 600 ? 10 : 11);
  }

  relabel() {
    this.wardLayer?.eachLayer((layer) => {
      const p = layer.feature.properties;
      layer.setTooltipContent(pick({ vi: p.name, en: p.nameEn || p.name }));
    });
    for (const key of LAYERS) for (const marker of this.markers[key].values()) marker.refresh?.();
  }

  feature(layer, item) {
    const known = this.markers[layer];
    const old = known.get(item.id);
    if (item.deleted) { old?.remove(); known.delete(item.id); return; }
    const at = latLng(item.location);
    if (!at) return;
    if (old) {
      old.setLatLng(at);
      old.setStyle(style(layer, item.attrs));
      old.item = item;
      old.refresh();
      return;
    }
    const marker = L.circleMarker(at, { ...style(layer, item.attrs), className: `feature ${layer}` });
    marker.item = item;
    marker.refresh = () => {
      marker.setTooltipContent(escape(label(layer, marker.item.attrs)));
      if (marker.isPopupOpen()) marker.setPopupContent(this.popup(layer, marker.item));
    };
    marker.bindTooltip("");
    marker.bindPopup("");
    marker.on("click", () => { marker.setPopupContent(this.popup(layer, marker.item)); this.onPick(layer, marker.item); });
    marker.addTo(this.groups[layer]);
    known.set(item.id, marker);
    marker.refresh();
  }

  popup(layer, item) {
    const rows = (SHOWN[layer] || []).filter((k) => item.attrs[k] != null).map((k) => {
      const value = k === "observedAt" ? when(item.attrs[k]) : k === "category" ? pick({ vi: item.attrs.category, en: item.attrs.categoryEn }) : item.attrs[k];
      return `<tr><th>${escape(t(`attr.${k}`))}</th><td>${escape(value)}</td></tr>`;
    });
    return `<div class="popup"><h4>${escape(item.attrs.name || item.id)}</h4><table>${rows.join("")}</table></div>`;
  }

  positionOf(id) {
    for (const key of LAYERS) {
      const marker = this.markers[key].get(id);
      if (marker) return marker.getLatLng();
    }
    return null;
  }

  alert(alert) {
    const known = this.markers.alerts;
    known.get(alert.id)?.remove();
    known.delete(alert.id);
    if (alert.status !== "active") return;
    const at = latLng(alert.location) || this.positionOf(alert.subject);
    if (!at) return;
    const colour = SEVERITY_COLOUR[alert.severity] || SEVERITY_COLOUR.info;
    const marker = L.circleMarker(at, {
      radius: 16, color: colour, weight: alert.acknowledged ? 2 : 4, dashArray: alert.acknowledged ? "4 4" : null,
      fill: true, fillOpacity: 0.08, className: "alert-marker",
    });
    marker.alert = alert;
    marker.refresh = () => marker.setTooltipContent(escape(pick(marker.alert.summary) || marker.alert.ruleName));
    marker.bindTooltip("");
    marker.addTo(this.groups.alerts);
    marker.getElement()?.setAttribute("data-alert-id", alert.id);
    known.set(alert.id, marker);
    marker.refresh();
  }

  report(report) {
    const known = this.markers.reports;
    known.get(report.service_request_id)?.remove();
    if (report.lat == null || report.long == null || report.status === "closed") return;
    const marker = L.circleMarker([report.lat, report.long], {
      radius: 6, color: "#004d40", weight: 1, fillColor: "#26a69a", fillOpacity: 0.9, className: "report-marker",
    });
    marker.bindTooltip(escape(`${report.service_name ?? ""}: ${report.description ?? ""}`.slice(0, 120)));
    marker.addTo(this.groups.reports);
    known.set(report.service_request_id, marker);
  }
}
