// The history of one sensor attribute, from the temporal API (last values), drawn with uPlot.
import { get } from "./api.js";
import { t } from "./i18n.js";

const uPlot = window.uPlot;
const ATTRS = {
  stations: ["airQualityIndex", "pm25", "pm10", "o3", "co", "no2", "so2", "temperature"],
  floods: ["currentLevel"],
  parking: ["availableSpotNumber"],
  traffic: ["averageVehicleSpeed"],
  weather: ["temperature", "precipitation", "relativeHumidity", "windSpeed"],
  buses: ["speed"],
};
const LAST_N = 200;

export class Chart {
  constructor(title, select, box, onError) {
    Object.assign(this, { title, select, box, onError });
    this.plot = null;
    this.item = null;
    select.addEventListener("change", () => this.draw());
  }

  pick(layer, item) {
    this.item = item;
    const attrs = (ATTRS[layer] || []).filter((a) => a in item.attrs);
    this.select.replaceChildren(...attrs.map((a) => new Option(t(`attr.${a}`), a)));
    this.select.hidden = attrs.length === 0;
    this.title.textContent = item.attrs.name || item.id;
    return this.draw();
  }

  relabel() {
    for (const option of this.select.options) option.text = t(`attr.${option.value}`);
    if (!this.item) this.title.textContent = t("chart.pick");
  }

  async draw() {
    const attr = this.select.value;
    this.plot?.destroy();
    this.plot = null;
    this.box.textContent = "";
    if (!this.item || !attr) return;
    try {
      const path = `/ngsi-ld/v1/temporal/entities/${encodeURIComponent(this.item.id)}?attrs=${attr}&lastN=${LAST_N}&options=temporalValues`;
      const body = await get(path);
      const values = (body?.[attr]?.values || []).filter((v) => typeof v[0] === "number");
      if (!values.length) { this.box.textContent = t("chart.none"); return; }
      values.sort((a, b) => a[1].localeCompare(b[1]));
      const data = [values.map((v) => Date.parse(v[1]) / 1000), values.map((v) => v[0])];
      const width = Math.max(260, this.box.clientWidth || 380);
      this.plot = new uPlot({
        width, height: 240, tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Ho_Chi_Minh"),
        series: [{}, { label: t(`attr.${attr}`), stroke: "#0b5cad", width: 2, points: { show: values.length < 60 } }],
        axes: [{}, { size: 50 }], legend: { show: true },
      }, data, this.box);
    } catch (error) {
      if (error.status === 404) this.box.textContent = t("chart.none");
      else this.onError(error);
    }
  }
}
