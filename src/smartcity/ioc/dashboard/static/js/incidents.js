// The incident board: one column per status; a card moves when its incident changes.
import { post } from "./api.js";
import { pick, t, when } from "./i18n.js";

const COLUMNS = [["new", "reopened"], ["assigned"], ["in_progress"], ["resolved"], ["closed"]];
const NEXT = {
  new: ["assigned", "in_progress", "resolved"], reopened: ["assigned", "in_progress", "resolved"],
  assigned: ["in_progress", "resolved"], in_progress: ["resolved"], resolved: ["closed", "reopened"], closed: ["reopened"],
};
const KEEP_CLOSED = 20;

export class IncidentBoard {
  constructor(board, onError) {
    this.board = board;
    this.onError = onError;
    this.incidents = new Map();
    this.enabled = false;
  }

  load(incidents) {
    this.enabled = true;
    this.incidents.clear();
    for (const incident of incidents) this.incidents.set(incident.id, incident);
    this.render();
  }

  upsert(incident) {
    this.incidents.set(incident.id, { ...this.incidents.get(incident.id), ...incident });
    this.render();
  }

  async move(incident, to) {
    try {
      await post(`/ioc/incidents/${encodeURIComponent(incident.id)}/transitions`, { to });
    } catch (error) {
      this.onError(error);
    }
  }

  card(incident) {
    const div = document.createElement("div");
    div.className = `card${incident.breached ? " breached" : ""}`;
    div.dataset.incidentId = incident.id;
    const title = document.createElement("div");
    title.innerHTML = "<b></b> ";
    title.firstChild.textContent = incident.number || incident.id;
    title.append(incident.title || "");
    const meta = document.createElement("div");
    meta.className = "meta";
    const due = incident.dueAt ? ` · ${t("incident.due")} ${when(incident.dueAt)}` : "";
    meta.textContent = `${pick(incident.departmentName) || incident.department || ""}${due}${incident.breached ? ` · ${t("incident.breached")}` : ""}`;
    div.append(title, meta);
    const next = NEXT[incident.status] || [];
    if (next.length) {
      const select = document.createElement("select");
      select.add(new Option(t("incident.move"), ""));
      for (const status of next) select.add(new Option(t(`status.${status}`), status));
      select.addEventListener("change", () => { if (select.value) this.move(incident, select.value); });
      div.append(select);
    }
    return div;
  }

  render() {
    if (!this.enabled) {
      this.board.textContent = t("incidents.off");
      return;
    }
    const all = [...this.incidents.values()].sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt)));
    this.board.replaceChildren(...COLUMNS.map((statuses) => {
      const column = document.createElement("section");
      column.className = "column";
      column.dataset.status = statuses[0];
      const h = document.createElement("h3");
      let cards = all.filter((i) => statuses.includes(i.status));
      if (statuses[0] === "closed") cards = cards.slice(0, KEEP_CLOSED);
      h.textContent = `${t(`status.${statuses[0]}`)} (${cards.length})`;
      column.append(h, ...cards.map((i) => this.card(i)));
      return column;
    }));
  }
}
