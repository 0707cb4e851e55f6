// Citizen requests (Open311 GeoReport v2 requests), newest first.
import { t, when } from "./i18n.js";

export class RequestList {
  constructor(list) {
    this.list = list;
    this.requests = new Map();
    this.enabled = false;
  }

  load(requests) {
    this.enabled = true;
    this.requests.clear();
    for (const r of requests) this.requests.set(r.service_request_id, r);
    this.render();
  }

  upsert(request) {
    this.requests.set(request.service_request_id, request);
    this.render();
  }

  render() {
    const empty = this.list.nextElementSibling;
    if (!this.enabled) {
      this.list.replaceChildren();
      empty.textContent = t("requests.off");
      empty.hidden = false;
      return;
    }
    const sorted = [...this.requests.values()].sort((a, b) => String(b.requested_datetime).localeCompare(String(a.requested_datetime)));
    this.list.replaceChildren(...sorted.map((r) => {
      const li = document.createElement("li");
      li.className = "request";
      li.dataset.requestId = r.service_request_id;
      const head = document.createElement("div");
      head.innerHTML = "<b></b> <span class=\"badge\"></span>";
      head.firstChild.textContent = r.service_name || r.service_code || "";
      head.lastChild.textContent = r.status || "";
      const text = document.createElement("div");
      text.textContent = r.description || "";
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = [r.address, r.ward, r.agency_responsible, when(r.requested_datetime)].filter(Boolean).join(" · ");
      li.append(head, text, meta);
      return li;
    }));
    empty.textContent = t("requests.none");
    empty.hidden = sorted.length > 0;
  }
}
