// Conversions between falflow's workflow document and React Flow's nodes and edges,
// plus the port helpers that the canvas and the nodes share.

export const NODE_TYPE = "fal";
export const DRAG_MIME = "application/x-falflow-node";

// One colour per value kind; list ports use the same colour with a square handle.
export const KIND_COLORS = {
  text: "#f5b041",
  image: "#4f9dff",
  video: "#ff5c7a",
  audio: "#3ddc97",
  number: "#2ed3e6",
  integer: "#14b8a6",
  boolean: "#facc15",
  enum: "#fb923c",
  json: "#a1a1aa",
  any: "#e4e4e7",
};

const LIST_PATTERN = /^list\[([a-z]+)\]$/;

export function parsePortType(text) {
  const match = LIST_PATTERN.exec(text || "");
  return match ? { kind: match[1], list: true } : { kind: text || "any", list: false };
}

export function kindColor(type) {
  return KIND_COLORS[parsePortType(type).kind] || KIND_COLORS.any;
}

// Must match `falflow.ui.editor.changes.edge_key` on the server.
export function edgeKey(edge) {
  return edge.id || `${edge.source}:${edge.source_port}->${edge.target}:${edge.target_port}`;
}

// A source port may carry a path (`images.0`); the handle is the port itself.
function portOfPath(path) {
  return String(path || "").split(".")[0];
}

export function documentToFlow(doc) {
  const nodes = (doc?.nodes || []).map((node) => ({
    id: node.id,
    type: NODE_TYPE,
    position: { x: node.position?.x ?? 0, y: node.position?.y ?? 0 },
    data: {
      type: node.type,
      params: node.params || {},
      label: node.label ?? null,
      placeholder: Boolean(node.placeholder),
    },
  }));
  const edges = (doc?.edges || []).map((edge) => ({
    id: edgeKey(edge),
    source: edge.source,
    sourceHandle: portOfPath(edge.source_port),
    target: edge.target,
    targetHandle: edge.target_port,
    data: { sourcePath: edge.source_port, keepId: Boolean(edge.id) },
  }));
  return { nodes, edges };
}

export function flowNodeToDocument(node) {
  return {
    id: node.id,
    type: node.data.type,
    params: node.data.params || {},
    position: { x: node.position.x, y: node.position.y },
    label: node.data.label ?? null,
    placeholder: Boolean(node.data.placeholder),
  };
}

export function flowEdgeToDocument(edge) {
  return {
    id: edge.data?.keepId === false ? null : edge.id,
    source: edge.source,
    source_port: edge.data?.sourcePath || edge.sourceHandle,
    target: edge.target,
    target_port: edge.targetHandle,
  };
}

export function flowToDocument(nodes, edges) {
  return {
    schema_version: 1,
    nodes: nodes.map(flowNodeToDocument),
    edges: edges.map(flowEdgeToDocument),
  };
}

export function sameDocument(left, right) {
  return JSON.stringify(left) === JSON.stringify(right);
}

function slugOf(type) {
  const last = String(type).split("/").filter(Boolean).pop() || "node";
  return last.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 40) || "node";
}

// Readable ids (`schnell-1`, `text-2`) that match the document's id pattern.
export function newNodeId(type, takenIds) {
  const slug = slugOf(type);
  for (let counter = 1; ; counter += 1) {
    const candidate = `${slug}-${counter}`;
    if (!takenIds.has(candidate)) {
      takenIds.add(candidate);
      return candidate;
    }
  }
}

// Input and output ports of a node. For node types whose ports depend on their params
// (template placeholders, the integer switch), the server's checks contain the ports.
export function nodePorts(spec, check) {
  if (!spec) return { inputs: [], outputs: [] };
  return {
    inputs: check?.inputs || spec.inputs || [],
    outputs: check?.outputs || spec.outputs || [],
  };
}

export function portTypeOf(node, handleId, direction, catalogByType, checks) {
  if (!node) return null;
  const spec = catalogByType[node.data.type];
  const ports = nodePorts(spec, checks[node.id]);
  const list = direction === "source" ? ports.outputs : ports.inputs;
  const port = list.find((candidate) => candidate.name === handleId);
  return port ? port.type : null;
}

export function compatibilityOf(table, sourceType, targetType) {
  const row = table?.[sourceType];
  return row?.[targetType] || { ok: false, batch: false };
}

export function mergeParams(params, values) {
  const merged = { ...(params || {}) };
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}
