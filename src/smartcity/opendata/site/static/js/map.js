// The map (Leaflet, no tile server: the city has no internet for it): the resource's places and the dataset's
// spatial coverage, on a plain background. Popups are built as text nodes, never as HTML.
function popup(properties) {
  const box = document.createElement("dl");
  for (const [key, value] of Object.entries(properties || {})) {
    if (value === null || value === undefined || value === "") continue;
    const term = document.createElement("dt");
    term.textContent = key;
    const detail = document.createElement("dd");
    detail.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    box.append(term, detail);
  }
  return box;
}

// the wards' outlines under everything else (fetched once, revalidated by ETag); a map without them is fine
async function drawWards(map) {
  try {
    const response = await fetch("/data/wards.geojson");
    if (!response.ok) return;
    const wards = await response.json();
    const L = window.L;
    L.geoJSON(wards, {
      style: { className: "ward", color: "#8795a3", weight: 0.6, fill: false },
      interactive: false,
    }).addTo(map).bringToBack();
  } catch (err) {
    console.warn("no ward outlines", err);
  }
}

export function startMap(box, data) {
  const L = window.L;
  const map = L.map(box, { attributionControl: false, zoomSnap: 0.25 });
  const wards = drawWards(map);
  const bounds = [];
  if (data.spatial) {
    const coverage = L.geoJSON(data.spatial, {
      style: { className: "coverage", color: "#5b6775", weight: 1, dashArray: "4 4", fillOpacity: 0.04 },
      interactive: false,
    }).addTo(map);
    bounds.push(coverage.getBounds());
  }
  if (data.features && data.features.features.length) {
    const places = L.geoJSON(data.features, {
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, { className: "feature", radius: 6, color: "#0b5cad", weight: 2, fillOpacity: 0.6 }),
      style: { className: "feature", color: "#0b5cad", weight: 2, fillOpacity: 0.2 },
      onEachFeature: (feature, layer) => layer.bindPopup(() => popup(feature.properties)),
    }).addTo(map);
    bounds.unshift(places.getBounds());
  }
  const valid = bounds.filter((b) => b.isValid());
  if (valid.length) {
    const target = L.latLngBounds(valid[0].getSouthWest(), valid[0].getNorthEast());
    for (const b of valid.slice(1)) target.extend(b);
    map.fitBounds(target.pad(0.05), { maxZoom: 16 });
  }
  else map.setView([10.7769, 106.7009], 11); // Ho Chi Minh City
  box.dataset.features = String(box.querySelectorAll("path.feature").length);
  return wards.then(() => {
    box.dataset.wards = String(box.querySelectorAll("path.ward").length);
  });
}
