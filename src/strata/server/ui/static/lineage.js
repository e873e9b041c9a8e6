// The lineage graph: Cytoscape.js laid out by dagre, left (upstream) to right (downstream).
// Click a node for its details; "centre here" reloads the page around that node.
"use strict";

const COLOURS = {
  table: "#1d4f91", file: "#5d6470", dataset: "#2f6f8f", model: "#1f7a3e", run: "#8a5a00",
  job: "#8a5a00", features: "#6b3fa0", deployment: "#b42318", release: "#444c5c",
};

// A label that fits under its node: the ref broken before its selector, a hash shortened.
function shortLabel(node) {
  if (node.label) return node.label;
  const at = node.ref.lastIndexOf("@");
  if (at < 0) return node.ref;
  const selector = node.ref.slice(at + 1);
  return node.ref.slice(0, at) + "\n@" + (/^[0-9a-f]{12,}$/.test(selector) ? selector.slice(0, 8) : selector);
}

function nodeDetails(node, aside) {
  const data = node.data();
  aside.replaceChildren();
  const title = document.createElement("h2");
  title.textContent = data.id;
  aside.append(title);
  const list = document.createElement("dl");
  list.className = "kv";
  for (const [key, value] of Object.entries(data.node)) {
    if (value === null || value === undefined || key === "link") continue;
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = typeof value === "object" ? JSON.stringify(value) : String(value);
    list.append(dt, dd);
  }
  aside.append(list);
  const links = document.createElement("p");
  const open = document.createElement("a");
  open.href = data.node.link;
  open.textContent = "open its page";
  open.className = "open-node";
  const centre = document.createElement("a");
  centre.href = "/lineage/" + encodeURIComponent(data.id).replace(/%3A/g, ":").replace(/%40/g, "@").replace(/%2F/g, "/");
  centre.textContent = "centre the graph here";
  centre.className = "centre-node";
  links.append(open, document.createTextNode(" · "), centre);
  aside.append(links);
}

document.addEventListener("DOMContentLoaded", () => {
  const graph = JSON.parse(document.getElementById("graph-data").textContent);
  const roots = new Set(graph.roots);
  const elements = [];
  for (const node of graph.nodes) {
    elements.push({ data: { id: node.ref, label: shortLabel(node), kind: node.kind, node } });
  }
  graph.edges.forEach((edge, i) => {
    elements.push({ data: { id: "e" + i, source: edge.src, target: edge.dst, label: edge.kind } });
  });
  cytoscape.use(cytoscapeDagre);
  const cy = cytoscape({
    container: document.getElementById("graph"),
    elements,
    maxZoom: 2.5,
    minZoom: 0.1,
    style: [
      { selector: "node", style: {
        "label": "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4,
        "background-color": (n) => COLOURS[n.data("kind")] || "#5d6470", "width": 18, "height": 18,
        "text-wrap": "wrap", "text-max-width": 170 } },
      { selector: "node.root", style: { "border-width": 4, "border-color": "#1d2330", "width": 24, "height": 24 } },
      { selector: "node:selected", style: { "border-width": 4, "border-color": "#f0a500" } },
      { selector: "edge", style: {
        "width": 1.5, "line-color": "#aab2bf", "target-arrow-color": "#aab2bf",
        "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)",
        "font-size": 9, "color": "#6a7280", "text-rotation": "autorotate" } },
    ],
    layout: { name: "dagre", rankDir: "LR", nodeSep: 60, rankSep: 190 },
  });
  cy.nodes().forEach((n) => { if (roots.has(n.id())) n.addClass("root"); });
  const aside = document.getElementById("details");
  cy.on("tap", "node", (event) => nodeDetails(event.target, aside));
  window.strataGraph = cy; // for tests and the console
});
