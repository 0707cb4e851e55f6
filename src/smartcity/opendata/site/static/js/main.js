// The site's small interactive parts: each starts only on a page that has its element. The pages work without it.
import { startCopyButtons } from "./copy.js";

function readJson(id) {
  const node = document.getElementById(id);
  if (!node) return null;
  try {
    return JSON.parse(node.textContent);
  } catch (err) {
    console.warn("unreadable embedded data", id, err);
    return null;
  }
}

// on a phone the facets come first, folded (those with a filter on stay open)
function foldFacets() {
  if (!window.matchMedia("(max-width: 760px)").matches) return;
  for (const facet of document.querySelectorAll("details.facet")) {
    if (!facet.querySelector("a.on")) facet.open = false;
  }
}

async function start() {
  foldFacets();
  startCopyButtons(document);
  const chart = readJson("chart-data");
  if (chart && window.uPlot) {
    const { startChart } = await import("./chart.js");
    startChart(document.getElementById("chart"), chart);
  }
  const map = readJson("map-data");
  if (map && window.L) {
    const { startMap } = await import("./map.js");
    await startMap(document.getElementById("map"), map);
  }
  document.body.dataset.ready = "1";
}

start();
