// The live event stream (Server-Sent Events). The browser reconnects by itself with Last-Event-ID; when the
// stream is refused (signed out, server restarting) it is reopened after a pause, catching up from the last id.
const KINDS = [
  "alert.raised", "alert.updated", "alert.acknowledged", "alert.cleared", "alert.escalated",
  "incident.opened", "incident.changed", "incident.sla_warning", "incident.sla_breached",
  "report.received", "report.changed", "entity.changed",
];

export function connect(onEvent, onState, since = 0) {
  let source = null;
  let lastId = since;
  let timer = null;
  let stopped = false;

  function open() {
    const url = lastId ? `/ioc/stream?lastEventId=${lastId}` : "/ioc/stream";
    source = new EventSource(url, { withCredentials: true });
    source.onopen = () => onState(true);
    source.onerror = () => {
      onState(false);
      if (source.readyState === EventSource.CLOSED && !stopped) {
        clearTimeout(timer);
        timer = setTimeout(open, 5000);
      }
    };
    for (const kind of KINDS) {
      source.addEventListener(kind, (message) => {
        lastId = Number(message.lastEventId) || lastId;
        let data;
        try { data = JSON.parse(message.data); } catch { return; }
        onEvent(kind, data);
      });
    }
  }

  open();
  return () => { stopped = true; clearTimeout(timer); source?.close(); onState(false); };
}
