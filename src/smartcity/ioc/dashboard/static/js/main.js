// The dashboard: sign in, then the map, the panels and the KPI tiles, kept live by the event stream.
import { AlertList } from "./alerts.js";
import * as api from "./api.js";
import { Chart } from "./chart.js";
import * as i18n from "./i18n.js";
import { IncidentBoard } from "./incidents.js";
import * as kpis from "./kpis.js";
import { CityMap } from "./map.js";
import { RequestList } from "./requests.js";
import { connect } from "./stream.js";

const VIEWERS = new Set(["administrator", "ioc_operator", "department_officer", "analyst", "soc_analyst"]);
const KPI_EVERY_MS = 30000;
const $ = (selector) => document.querySelector(selector);

let parts = { alerts: false, incidents: false, open311: false };
let disconnect = null;
let kpiTimer = null;
let lastKpis = null;

function report(error) {
  console.warn("dashboard:", error);
  const live = $("#live");
  live.title = `${i18n.t("error.request")}: ${error.message}`;
}

const map = new CityMap($("#map"), (layer, item) => { chart.pick(layer, item); });
const chart = new Chart($("#chart-title"), $("#chart-attr"), $("#chart"), report);
const alerts = new AlertList($("#alerts"), $("#alert-count"), {
  onChange: (alert) => { map.alert(alert); refreshKpisSoon(); }, onError: report, incidents: () => parts.incidents,
});
const board = new IncidentBoard($("#board"), report);
const requests = new RequestList($("#requests"));

let kpiSoon = null;
function refreshKpisSoon() {
  clearTimeout(kpiSoon);
  kpiSoon = setTimeout(refreshKpis, 1000);
}

async function refreshKpis() {
  try {
    lastKpis = await api.get("/ioc/kpis");
    kpis.render($("#kpis"), lastKpis);
  } catch (error) { report(error); }
}

function onEvent(kind, data) {
  const [family] = kind.split(".");
  if (family === "alert") alerts.upsert(data);
  else if (family === "incident") { board.upsert(data); refreshKpisSoon(); }
  else if (family === "report") { requests.upsert(data); map.report(data); }
  else if (kind === "entity.changed") {
    const layer = { AirQualityObserved: "stations", FloodMonitoring: "floods", Vehicle: "buses", OffStreetParking: "parking",
      TrafficFlowObserved: "traffic", WeatherObserved: "weather" }[data.type];
    if (layer) map.feature(layer, data);
  }
}

function setLive(open) {
  const live = $("#live");
  live.dataset.state = open ? "open" : "off";
  live.dataset.i18n = open ? "live.open" : "live.off";
  live.textContent = i18n.t(live.dataset.i18n);
}

async function start(who) {
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#signout").hidden = false;
  $("#who").textContent = `${who.subject} (${who.role})`;
  map.map.invalidateSize();
  const [wards, layers] = await Promise.all([api.get("/ioc/map/wards"), api.get("/ioc/map/layers")]);
  map.wards(wards);
  for (const [layer, items] of Object.entries(layers.layers)) for (const item of items) map.feature(layer, item);
  parts = layers.parts;
  const loads = [refreshKpis()];
  if (parts.alerts) {
    loads.push(api.get("/ioc/alerts?status=active&limit=500").then((body) => {
      alerts.load(body.alerts);
      for (const alert of body.alerts) map.alert(alert);
    }));
  }
  if (parts.incidents) loads.push(api.get("/ioc/incidents?limit=200").then((body) => board.load(body.incidents)));
  else board.render();
  if (parts.open311) {
    loads.push(api.get("/open311/v2/requests.json").then((items) => {
      requests.load(items);
      for (const r of items) map.report(r);
    }));
  } else requests.render();
  await Promise.all(loads.map((p) => p.catch(report)));
  disconnect = connect(onEvent, setLive, layers.lastEventId);
  kpiTimer = setInterval(refreshKpis, KPI_EVERY_MS);
  document.body.dataset.ready = "1";
}

function showSignIn(message = "") {
  $("#app").hidden = true;
  $("#signout").hidden = true;
  $("#who").textContent = "";
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const who = await api.signIn(form.get("username"), form.get("password"));
    if (!VIEWERS.has(who.role)) { showSignIn(i18n.t("signin.role")); return; }
    event.target.reset();
    await start(who);
  } catch (error) {
    showSignIn(error.status === 401 ? i18n.t("signin.failed") : error.message);
  }
});

$("#signout").addEventListener("click", async () => {
  disconnect?.();
  clearInterval(kpiTimer);
  try { await api.signOut(); } catch (error) { report(error); }
  location.reload();
});

$("#lang").addEventListener("click", () => i18n.setLanguage(i18n.current() === "vi" ? "en" : "vi"));

for (const tab of document.querySelectorAll("[data-tab]")) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll("[data-tab]")) other.setAttribute("aria-selected", String(other === tab));
    for (const panel of document.querySelectorAll("[data-panel]")) panel.hidden = panel.dataset.panel !== tab.dataset.tab;
    if (tab.dataset.tab === "chart") chart.draw();
  });
}

i18n.onChange(() => {
  $("#lang").textContent = i18n.current() === "vi" ? "EN" : "VI";
  map.relabel();
  alerts.render();
  board.render();
  requests.render();
  chart.relabel();
  kpis.render($("#kpis"), lastKpis);
  setLive($("#live").dataset.state === "open");
});

async function boot() {
  i18n.apply();
  $("#lang").textContent = i18n.current() === "vi" ? "EN" : "VI";
  map.toggles($("#layers"));
  $("#layers").open = window.innerWidth > 900;
  const who = await api.session();
  if (VIEWERS.has(who.role) && who.kind === "user") await start(who);
  else showSignIn();
}

boot().catch(report);
