// The alert list: active alerts, most severe and newest first, with acknowledge, clear, silence, open incident.
import { post } from "./api.js";
import { pick, t, when } from "./i18n.js";

const RANK = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };
const SILENCE_MS = 3600 * 1000;

export class AlertList {
  constructor(list, counter, { onChange, onError, incidents }) {
    this.list = list;
    this.counter = counter;
    this.onChange = onChange;
    this.onError = onError;
    this.incidents = incidents;
    this.alerts = new Map();
  }

  load(alerts) {
    this.alerts.clear();
    for (const alert of alerts) this.alerts.set(alert.id, alert);
    this.render();
  }

  upsert(alert) {
    if (alert.status === "active") this.alerts.set(alert.id, alert);
    else this.alerts.delete(alert.id);
    this.onChange(alert);
    this.render();
  }

  async act(alert, action) {
    try {
      if (action === "silence") {
        const now = Date.now();
        await post("/ioc/silences", {
          matchers: { ruleId: alert.ruleId, subject: alert.subject },
          startsAt: new Date(now).toISOString(), endsAt: new Date(now + SILENCE_MS).toISOString(),
          comment: "dashboard",
        });
        return;
      }
      if (action === "incident") {
        await post("/ioc/incidents", { alertId: alert.id });
        return;
      }
      const updated = await post(`/ioc/alerts/${encodeURIComponent(alert.id)}/${action}`, {});
      if (updated && updated.id) this.upsert(updated);
    } catch (error) {
      this.onError(error);
    }
  }

  button(alert, action, key) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = action;
    b.textContent = t(key);
    b.addEventListener("click", () => { b.disabled = true; this.act(alert, action).finally(() => { b.disabled = false; }); });
    return b;
  }

  item(alert) {
    const li = document.createElement("li");
    li.className = "alert";
    li.dataset.alertId = alert.id;
    li.dataset.severity = alert.severity;
    li.dataset.acknowledged = String(alert.acknowledged);
    const head = document.createElement("div");
    head.className = "head";
    const sev = document.createElement("span");
    sev.className = "badge";
    sev.textContent = t(`sev.${alert.severity}`);
    const ack = document.createElement("span");
    ack.className = `badge ${alert.acknowledged ? "acked" : "unacked"}`;
    ack.dataset.role = "ack-state";
    ack.textContent = t(alert.acknowledged ? "alert.acked" : "alert.unacked");
    const summary = document.createElement("span");
    summary.className = "summary";
    summary.textContent = pick(alert.summary) || alert.ruleName;
    head.append(sev, ack, summary);
    if (alert.silenced) {
      const s = document.createElement("span");
      s.className = "badge";
      s.textContent = t("alert.silenced");
      head.append(s);
    }
    const meta = document.createElement("div");
    meta.className = "meta";
    const ward = alert.labels?.ward ? ` · ${alert.labels.ward}` : "";
    meta.textContent = `${alert.ruleName} · ${alert.subject}${ward} · ${when(alert.lastSeen)} · ${alert.count} ${t("alert.count")}`;
    const actions = document.createElement("div");
    actions.className = "actions";
    if (!alert.acknowledged) actions.append(this.button(alert, "acknowledge", "alert.ack"));
    actions.append(this.button(alert, "clear", "alert.clear"), this.button(alert, "silence", "alert.silence"));
    if (this.incidents() && !alert.incidentId) actions.append(this.button(alert, "incident", "alert.incident"));
    if (alert.incidentId) {
      const inc = document.createElement("span");
      inc.className = "badge";
      inc.textContent = `${t("alert.incidentOpen")} ✓`;
      actions.append(inc);
    }
    li.append(head, meta, actions);
    return li;
  }

  render() {
    const sorted = [...this.alerts.values()].sort(
      (a, b) => (RANK[a.severity] ?? 9) - (RANK[b.severity] ?? 9) || String(b.lastSeen).localeCompare(String(a.lastSeen)),
    );
    this.list.replaceChildren(...sorted.map((a) => this.item(a)));
    this.counter.textContent = String(sorted.length);
    this.list.nextElementSibling.hidden = sorted.length > 0;
  }
}
