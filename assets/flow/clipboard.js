// Copy and paste of nodes. The clipboard lives in localStorage, so nodes can be pasted
// into another tab or another workflow.

import { edgeKey, flowEdgeToDocument, flowNodeToDocument, newNodeId } from "./graph.js";

const CLIPBOARD_KEY = "falflow.clipboard";
export const PASTE_OFFSET = 40;

// Store the selected nodes and the edges among them; return how many nodes were copied.
export function copyNodes(nodes, edges) {
  const selected = nodes.filter((node) => node.selected);
  if (!selected.length) return 0;
  const ids = new Set(selected.map((node) => node.id));
  const payload = {
    nodes: selected.map(flowNodeToDocument),
    edges: edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)).map(flowEdgeToDocument),
  };
  window.localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(payload));
  return selected.length;
}

function readClipboard() {
  try {
    return JSON.parse(window.localStorage.getItem(CLIPBOARD_KEY) || "null");
  } catch (error) {
    return null;
  }
}

// Return document nodes and edges for a paste, with fresh ids and shifted positions, or
// null when the clipboard contains no node of a known type.
export function takePaste(takenIds, catalogByType) {
  const payload = readClipboard();
  const renamed = {};
  const nodes = (payload?.nodes || [])
    .filter((node) => catalogByType[node.type])
    .map((node) => {
      renamed[node.id] = newNodeId(node.type, takenIds);
      return {
        ...node,
        id: renamed[node.id],
        placeholder: false,
        position: { x: node.position.x + PASTE_OFFSET, y: node.position.y + PASTE_OFFSET },
      };
    });
  if (!nodes.length) return null;
  const edges = (payload.edges || [])
    .filter((edge) => renamed[edge.source] && renamed[edge.target])
    .map((edge) => {
      const moved = { ...edge, id: null, source: renamed[edge.source], target: renamed[edge.target] };
      return { ...moved, id: edgeKey(moved) };
    });
  // The next paste lands one step further away.
  window.localStorage.setItem(CLIPBOARD_KEY, JSON.stringify({ nodes, edges }));
  return { nodes, edges };
}
