// The time-series chart (uPlot): one numeric column over a time column, for one series when the rows hold several
// (e.g. one station among many). The data is embedded in the page (#chart-data): the latest points, oldest first.
const MAX_SERIES = 60;

function distinct(rows, index) {
  const found = new Set();
  for (const row of rows) if (row[index] !== null && row[index] !== undefined) found.add(String(row[index]));
  return [...found].sort((a, b) => a.localeCompare(b));
}

const ZONE = "Asia/Ho_Chi_Minh";

// tick labels in the page's language and the city's time: hours on the first line, the date under a new day
function timeTicks() {
  const locale = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  const hour = new Intl.DateTimeFormat(locale, { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const day = new Intl.DateTimeFormat(locale, { timeZone: ZONE, day: "2-digit", month: "2-digit" });
  return (u, splits) => {
    let lastDay = "";
    return splits.map((ts) => {
      const at = new Date(ts * 1000);
      const date = day.format(at);
      const label = date === lastDay ? hour.format(at) : `${hour.format(at)}\n${date}`;
      lastDay = date;
      return label;
    });
  };
}

function timeValue() {
  const locale = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";
  const full = new Intl.DateTimeFormat(locale, {
    timeZone: ZONE, hour: "2-digit", minute: "2-digit", day: "2-digit", month: "2-digit", year: "numeric",
    hourCycle: "h23",
  });
  return (u, ts) => (ts === null || ts === undefined ? "--" : full.format(new Date(ts * 1000)));
}

export function startChart(box, data) {
  const uPlot = window.uPlot;
  const column = (name) => data.columns.indexOf(name);
  const valueSelect = document.getElementById("chart-value");
  const timeSelect = document.getElementById("chart-time");
  const seriesSelect = document.getElementById("chart-series");
  const seriesLabel = document.getElementById("chart-series-label");
  const labels = Object.fromEntries(data.values.map((v) => [v.id, v.label]));
  const timeLabels = Object.fromEntries(data.time.map((v) => [v.id, v.label]));

  // the first text column that splits the rows into a few series
  let category = null;
  for (const name of data.series) {
    const values = distinct(data.rows, column(name));
    if (values.length >= 2 && values.length <= MAX_SERIES) {
      category = name;
      for (const value of values) seriesSelect.append(new Option(value, value));
      seriesLabel.hidden = false;
      break;
    }
  }

  let plot = null;
  function draw() {
    const time = timeSelect ? timeSelect.value : data.time[0].id;
    const value = valueSelect.value;
    const t = column(time);
    const v = column(value);
    const c = category ? column(category) : -1;
    const wanted = category ? seriesSelect.value : null;
    const points = [];
    for (const row of data.rows) {
      if (c >= 0 && String(row[c]) !== wanted) continue;
      const x = Date.parse(row[t]);
      if (Number.isNaN(x)) continue;
      points.push([x / 1000, row[v] === null ? null : Number(row[v])]);
    }
    points.sort((a, b) => a[0] - b[0]);
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const options = {
      width: Math.max(280, box.clientWidth),
      height: 300,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Asia/Ho_Chi_Minh"),
      series: [
        { label: box.dataset.timeLabel || timeLabels[time] || time, value: timeValue() },
        { label: labels[value] || value, stroke: "#0b5cad", width: 2, points: { show: xs.length < 60 } },
      ],
      axes: [{ values: timeTicks(), space: 60 }, { size: 60 }],
    };
    if (plot) plot.destroy();
    plot = new uPlot(options, [xs, ys], box);
    box.dataset.points = String(xs.length);
  }

  for (const select of [valueSelect, timeSelect, seriesSelect]) if (select) select.addEventListener("change", draw);
  let pending = 0;
  window.addEventListener("resize", () => {
    clearTimeout(pending);
    pending = setTimeout(() => plot && plot.setSize({ width: Math.max(280, box.clientWidth), height: 300 }), 150);
  });
  draw();
}
