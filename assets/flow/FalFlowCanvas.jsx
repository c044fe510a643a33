// falflow's node editor: palette, React Flow canvas, keyboard shortcuts and undo history.
//
// The browser owns the live graph. Each user action is reported once through
// `onGraphChange` as a semantic change: move, connect, remove, add, params, label or
// replace. The server saves it, and it replaces this graph only by bumping `graphVersion`.
// Run status (`nodeStatus`) and problems (`nodeChecks`) reach the nodes through context.

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import "./flow.css";
import { CanvasToolbar, EmptyCanvasHint, FlashMessage, useFlash } from "./CanvasOverlays.jsx";
import { PASTE_OFFSET, copyNodes, takePaste } from "./clipboard.js";
import { EditorContext } from "./context.js";
import FalNode from "./FalNode.jsx";
import NodeMenu from "./NodeMenu.jsx";
import Palette from "./Palette.jsx";
import {
  DRAG_MIME,
  NODE_TYPE,
  compatibilityOf,
  documentToFlow,
  edgeKey,
  flowNodeToDocument,
  flowToDocument,
  kindColor,
  mergeParams,
  newNodeId,
  portTypeOf,
} from "./graph.js";
import { historySizes, recordUndo, stepBack, stepForward } from "./history.js";
import { fitPadding, useDragSelectionGuard, usePaletteCollapsed } from "./layout.js";
import { useKeyboardShortcuts } from "./useKeyboardShortcuts.js";

const nodeTypes = { [NODE_TYPE]: FalNode };
const PARAM_DEBOUNCE_MS = 250;
const STATUS_COLORS = {
  succeeded: "#3ddc97", reused: "#a78bfa", failed: "#ff5c7a", running: "#4f9dff",
  submitted: "#4f9dff", queued: "#f5b041", blocked: "#fb923c", cancelled: "#71717a",
};

export default function FalFlowCanvas(props) {
  return (
    <ReactFlowProvider>
      <Editor {...props} />
    </ReactFlowProvider>
  );
}

function Editor({
  graph, graphVersion, workflowId, catalog, compatibility, nodeStatus, nodeChecks,
  apiBase, focusRequest, readOnly, onGraphChange, onRun, onPreview,
}) {
  const flow = useReactFlow();
  const [nodes, setNodes] = useState([]);
  const [edges, setEdges] = useState([]);
  const [menu, setMenu] = useState(null);
  const [flash, showFlash] = useFlash();
  const [history, setHistory] = useState({ undo: 0, redo: 0 });
  const [paletteCollapsed, togglePalette] = usePaletteCollapsed();
  const [beginDrag, endDrag] = useDragSelectionGuard();
  const wrapper = useRef(null);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const pending = useRef(new Map());
  const dragBefore = useRef(null);
  const deleteBefore = useRef(null);
  const fitted = useRef(false);
  // True once the first view of this workflow is fitted, so the canvas stops moving
  // under the pointer; tests and scripts wait for data-view-ready.
  const [viewReady, setViewReady] = useState(false);
  const versionRef = useRef(graphVersion);
  const callbacks = useRef({});
  nodesRef.current = nodes;
  edgesRef.current = edges;
  callbacks.current = { onGraphChange, onRun, onPreview };
  const canPreview = Boolean(onPreview);

  const catalogByType = useMemo(() => Object.fromEntries((catalog || []).map((spec) => [spec.type, spec])), [catalog]);
  const checks = nodeChecks || {};
  const checksRef = useRef(checks);
  checksRef.current = checks;

  const currentDocument = useCallback(() => flowToDocument(nodesRef.current, edgesRef.current), []);

  const refreshHistory = useCallback(() => setHistory(historySizes(workflowId)), [workflowId]);

  const send = useCallback((change) => {
    callbacks.current.onGraphChange?.({ ...change, graph_version: versionRef.current });
  }, []);

  const commit = useCallback((change, before) => {
    if (before) recordUndo(workflowId, before);
    refreshHistory();
    send(change);
  }, [workflowId, refreshHistory, send]);

  const flushNode = useCallback((nodeId) => {
    const entry = pending.current.get(nodeId);
    if (!entry) return;
    window.clearTimeout(entry.timer);
    pending.current.delete(nodeId);
    commit({ kind: "params", node_id: nodeId, params: entry.params }, entry.before);
  }, [commit]);

  const flushPending = useCallback(() => {
    for (const nodeId of [...pending.current.keys()]) flushNode(nodeId);
  }, [flushNode]);

  const dropPending = useCallback(() => {
    for (const entry of pending.current.values()) window.clearTimeout(entry.timer);
    pending.current.clear();
  }, []);

  // Fits the whole graph while keeping it clear of the toolbar, controls and minimap.
  const fitAll = useCallback((options) => {
    const box = wrapper.current?.getBoundingClientRect();
    const current = flow.getNodes();
    if (!box || !current.length) return Promise.resolve(false);
    const padding = fitPadding(flow.getNodesBounds(current), box.width, box.height);
    return Promise.resolve(flow.fitView({ padding, maxZoom: 1, ...options }));
  }, [flow]);

  const openPreview = useCallback((preview) => callbacks.current.onPreview?.(preview), []);

  const showDocument = useCallback((doc) => {
    const next = documentToFlow(doc);
    setNodes(next.nodes);
    setEdges(next.edges);
  }, []);

  useEffect(() => {
    fitted.current = false;
    setViewReady(false);
  }, [workflowId]);

  // The server replaces the graph only through a new graphVersion.
  useEffect(() => {
    versionRef.current = graphVersion;
    dropPending();
    showDocument(graph || {});
    setMenu(null);
    refreshHistory();
    if (!fitted.current && (graph?.nodes || []).length) {
      fitted.current = true;
      setViewReady(false);
      window.setTimeout(() => fitAll().finally(() => setViewReady(true)), 60);
    } else if (!fitted.current) {
      setViewReady(true);
    }
  }, [graphVersion]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!focusRequest?.node_id) return;
    const target = flow.getNode(focusRequest.node_id);
    if (!target) return;
    setNodes((current) => current.map((node) => ({ ...node, selected: node.id === target.id })));
    flow.fitView({ nodes: [{ id: target.id }], duration: 300, maxZoom: 1.1 });
  }, [focusRequest?.nonce]); // eslint-disable-line react-hooks/exhaustive-deps

  const setParams = useCallback((nodeId, values) => {
    if (readOnly) return;
    let entry = pending.current.get(nodeId);
    if (!entry) {
      // The undo step is the document before the first keystroke of this burst.
      entry = { params: {}, before: currentDocument(), timer: null };
      pending.current.set(nodeId, entry);
    }
    Object.assign(entry.params, values);
    window.clearTimeout(entry.timer);
    entry.timer = window.setTimeout(() => flushNode(nodeId), PARAM_DEBOUNCE_MS);
    setNodes((current) => current.map((node) => (
      node.id === nodeId ? { ...node, data: { ...node.data, params: mergeParams(node.data.params, values) } } : node
    )));
  }, [readOnly, currentDocument, flushNode]);

  const setLabel = useCallback((nodeId, label) => {
    flushPending();
    const before = currentDocument();
    const trimmed = label.trim() || null;
    const node = nodesRef.current.find((candidate) => candidate.id === nodeId);
    if (!node || (node.data.label ?? null) === trimmed) return;
    setNodes((current) => current.map((candidate) => (
      candidate.id === nodeId ? { ...candidate, data: { ...candidate.data, label: trimmed } } : candidate
    )));
    commit({ kind: "label", node_id: nodeId, label: trimmed }, before);
  }, [flushPending, currentDocument, commit]);

  const addNodes = useCallback((newNodes, newEdges) => {
    flushPending();
    const before = currentDocument();
    setNodes((current) => [
      ...current.map((node) => ({ ...node, selected: false })),
      ...newNodes.map((node) => ({ ...documentToFlow({ nodes: [node] }).nodes[0], selected: true })),
    ]);
    setEdges((current) => [...current, ...documentToFlow({ edges: newEdges }).edges]);
    commit({ kind: "add", nodes: newNodes, edges: newEdges }, before);
  }, [flushPending, currentDocument, commit]);

  const addNodeOfType = useCallback((type, position) => {
    if (readOnly || !catalogByType[type]) return;
    let at = position;
    if (!at) {
      const box = wrapper.current.getBoundingClientRect();
      at = flow.screenToFlowPosition({ x: box.left + box.width / 2 - 140, y: box.top + box.height / 3 });
    }
    const takenIds = new Set(nodesRef.current.map((node) => node.id));
    const id = newNodeId(type, takenIds);
    addNodes([{ id, type, params: {}, position: { x: at.x, y: at.y }, label: null, placeholder: false }], []);
  }, [readOnly, catalogByType, flow, addNodes]);

  const copySelection = useCallback(() => {
    const count = copyNodes(nodesRef.current, edgesRef.current);
    if (count) showFlash(`Copied ${count} node${count === 1 ? "" : "s"}.`);
  }, [showFlash]);

  const paste = useCallback(() => {
    if (readOnly) return;
    const pasted = takePaste(new Set(nodesRef.current.map((node) => node.id)), catalogByType);
    if (!pasted) {
      showFlash("Nothing to paste: select nodes and press Ctrl/⌘+C first.");
      return;
    }
    addNodes(pasted.nodes, pasted.edges);
  }, [readOnly, catalogByType, addNodes, showFlash]);

  const travel = useCallback((direction) => {
    if (readOnly) return;
    flushPending();
    const current = currentDocument();
    const doc = direction === "undo" ? stepBack(workflowId, current) : stepForward(workflowId, current);
    refreshHistory();
    if (!doc) {
      showFlash(direction === "undo" ? "Nothing to undo." : "Nothing to redo.");
      return;
    }
    showDocument(doc);
    send({ kind: "replace", document: doc, reason: direction });
  }, [readOnly, flushPending, currentDocument, workflowId, refreshHistory, showFlash, showDocument, send]);

  const run = useCallback((options) => {
    flushPending();
    callbacks.current.onRun?.(options || {});
  }, [flushPending]);

  const removeNodes = useCallback((nodeIds) => {
    flushPending();
    const before = currentDocument();
    const ids = new Set(nodeIds);
    const removedEdges = edgesRef.current.filter((edge) => ids.has(edge.source) || ids.has(edge.target));
    setNodes((current) => current.filter((node) => !ids.has(node.id)));
    setEdges((current) => current.filter((edge) => !ids.has(edge.source) && !ids.has(edge.target)));
    commit({ kind: "remove", nodes: [...ids], edges: removedEdges.map((edge) => edge.id) }, before);
  }, [flushPending, currentDocument, commit]);

  const duplicateNode = useCallback((nodeId) => {
    const node = nodesRef.current.find((candidate) => candidate.id === nodeId);
    if (!node) return;
    const copy = flowNodeToDocument(node);
    const takenIds = new Set(nodesRef.current.map((candidate) => candidate.id));
    addNodes([{ ...copy, id: newNodeId(copy.type, takenIds), position: { x: copy.position.x + PASTE_OFFSET, y: copy.position.y + PASTE_OFFSET } }], []);
  }, [addNodes]);

  const openMenu = useCallback((nodeId, event) => {
    event.preventDefault();
    event.stopPropagation();
    const box = wrapper.current.getBoundingClientRect();
    setMenu({ nodeId, x: event.clientX - box.left, y: event.clientY - box.top });
  }, []);

  useKeyboardShortcuts({
    escape: () => setMenu(null),
    run: () => run({}),
    undo: () => travel("undo"),
    redo: () => travel("redo"),
    copy: copySelection,
    paste,
    flush: flushPending,
  });

  const onNodesChange = useCallback((changes) => setNodes((current) => applyNodeChanges(changes, current)), []);
  const onEdgesChange = useCallback((changes) => setEdges((current) => applyEdgeChanges(changes, current)), []);

  const nodeById = useCallback((id) => nodesRef.current.find((node) => node.id === id), []);

  const connectionTypes = useCallback((connection) => ({
    source: portTypeOf(nodeById(connection.source), connection.sourceHandle, "source", catalogByType, checksRef.current),
    target: portTypeOf(nodeById(connection.target), connection.targetHandle, "target", catalogByType, checksRef.current),
  }), [nodeById, catalogByType]);

  const isValidConnection = useCallback((connection) => {
    if (readOnly || connection.source === connection.target) return false;
    const types = connectionTypes(connection);
    if (!types.source || !types.target) return false;
    return compatibilityOf(compatibility, types.source, types.target).ok;
  }, [readOnly, connectionTypes, compatibility]);

  const onConnect = useCallback((connection) => {
    flushPending();
    const before = currentDocument();
    const types = connectionTypes(connection);
    const takesMany = Boolean(types.target && types.target.startsWith("list["));
    const documentEdge = {
      source: connection.source, source_port: connection.sourceHandle,
      target: connection.target, target_port: connection.targetHandle,
    };
    const id = edgeKey(documentEdge);
    setEdges((current) => {
      const remaining = takesMany
        ? current
        : current.filter((edge) => !(edge.target === connection.target && edge.targetHandle === connection.targetHandle));
      if (remaining.some((edge) => edge.id === id)) return remaining;
      return [...remaining, { ...documentToFlow({ edges: [{ ...documentEdge, id }] }).edges[0] }];
    });
    commit({ kind: "connect", id, ...documentEdge }, before);
  }, [flushPending, currentDocument, connectionTypes, commit]);

  const onConnectEnd = useCallback((event, state) => {
    endDrag();
    if (!state || state.isValid !== false || !state.toHandle || !state.fromHandle) return;
    const fromSource = state.fromHandle.type === "source";
    const source = fromSource ? state.fromHandle : state.toHandle;
    const target = fromSource ? state.toHandle : state.fromHandle;
    const types = connectionTypes({
      source: source.nodeId, sourceHandle: source.id, target: target.nodeId, targetHandle: target.id,
    });
    if (types.source && types.target) {
      showFlash(`Connection refused: a ${types.source} output cannot feed a ${types.target} input.`);
    }
  }, [endDrag, connectionTypes, showFlash]);

  const onBeforeDelete = useCallback(async () => {
    if (readOnly) return false;
    flushPending();
    deleteBefore.current = currentDocument();
    return true;
  }, [readOnly, flushPending, currentDocument]);

  const onDelete = useCallback(({ nodes: removedNodes, edges: removedEdges }) => {
    if (!removedNodes.length && !removedEdges.length) return;
    commit(
      { kind: "remove", nodes: removedNodes.map((node) => node.id), edges: removedEdges.map((edge) => edge.id) },
      deleteBefore.current,
    );
    deleteBefore.current = null;
  }, [commit]);

  const onDragStart = useCallback(() => {
    beginDrag();
    flushPending();
    dragBefore.current = currentDocument();
  }, [beginDrag, flushPending, currentDocument]);

  const onDragStop = useCallback((event, node, draggedNodes) => {
    endDrag();
    const before = dragBefore.current;
    dragBefore.current = null;
    const moved = (draggedNodes && draggedNodes.length ? draggedNodes : [node]).filter(Boolean);
    const previous = Object.fromEntries((before?.nodes || []).map((entry) => [entry.id, entry.position]));
    const changed = moved
      .filter((entry) => {
        const old = previous[entry.id];
        return !old || old.x !== entry.position.x || old.y !== entry.position.y;
      })
      .map((entry) => ({ id: entry.id, x: entry.position.x, y: entry.position.y }));
    if (changed.length) commit({ kind: "move", nodes: changed }, before);
  }, [endDrag, commit]);

  const onSelectionDragStop = useCallback((event, draggedNodes) => onDragStop(event, null, draggedNodes), [onDragStop]);

  const onDragOver = useCallback((event) => {
    if (!event.dataTransfer.types.includes(DRAG_MIME)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback((event) => {
    const type = event.dataTransfer.getData(DRAG_MIME);
    if (!type) return;
    event.preventDefault();
    addNodeOfType(type, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
  }, [addNodeOfType, flow]);

  const connected = useMemo(() => {
    const byNode = {};
    for (const edge of edges) {
      if (!byNode[edge.target]) byNode[edge.target] = new Set();
      byNode[edge.target].add(edge.targetHandle);
    }
    return byNode;
  }, [edges]);

  const styledEdges = useMemo(() => edges.map((edge) => {
    const types = connectionTypes(edge);
    const compat = types.source && types.target ? compatibilityOf(compatibility, types.source, types.target) : null;
    const running = nodeStatus?.[edge.target]?.status === "running" || nodeStatus?.[edge.target]?.status === "submitted";
    return {
      ...edge,
      animated: running,
      className: compat?.batch ? "ff-edge-batch" : undefined,
      label: compat?.batch ? "batch" : undefined,
      style: { stroke: types.source ? kindColor(types.source) : undefined, strokeWidth: 2 },
    };
  }), [edges, connectionTypes, compatibility, nodeStatus]); // eslint-disable-line react-hooks/exhaustive-deps

  const context = useMemo(() => ({
    catalog: catalogByType,
    status: nodeStatus || {},
    checks,
    connected,
    apiBase: apiBase || "",
    readOnly: Boolean(readOnly),
    setParams,
    setLabel,
    openMenu,
    openPreview: canPreview ? openPreview : null,
  }), [catalogByType, nodeStatus, checks, connected, apiBase, readOnly, setParams, setLabel, openMenu, canPreview, openPreview]);

  const editorClasses = ["ff-editor", readOnly ? "ff-read-only" : "", paletteCollapsed ? "ff-palette-collapsed" : ""].join(" ");

  return (
    <EditorContext.Provider value={context}>
      <div className={editorClasses} id="flow-editor">
        {readOnly ? null : (
          <Palette
            catalog={catalog || []}
            onAdd={(type) => addNodeOfType(type, null)}
            collapsed={paletteCollapsed}
            onToggle={togglePalette}
          />
        )}
        <div className="ff-canvas" ref={wrapper} data-view-ready={viewReady ? "true" : "false"} onDragOver={onDragOver} onDrop={onDrop}>
          <ReactFlow
            nodes={nodes}
            edges={styledEdges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectStart={beginDrag}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onBeforeDelete={onBeforeDelete}
            onDelete={onDelete}
            onNodeDragStart={onDragStart}
            onNodeDragStop={onDragStop}
            onSelectionDragStart={onDragStart}
            onSelectionDragStop={onSelectionDragStop}
            onNodeContextMenu={(event, node) => openMenu(node.id, event)}
            onPaneClick={() => setMenu(null)}
            deleteKeyCode={["Backspace", "Delete"]}
            nodesDraggable={!readOnly}
            nodesConnectable={!readOnly}
            colorMode="dark"
            minZoom={0.2}
            maxZoom={2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={20} size={1} />
            <Controls showInteractive={false} showFitView={false} />
            <MiniMap
              pannable
              zoomable
              style={{ width: 160, height: 110 }}
              nodeColor={(node) => STATUS_COLORS[nodeStatus?.[node.id]?.status] || "#52525b"}
              maskColor="rgba(10, 10, 14, 0.6)"
            />
            <CanvasToolbar
              canUndo={!readOnly && history.undo > 0}
              canRedo={!readOnly && history.redo > 0}
              onUndo={() => travel("undo")}
              onRedo={() => travel("redo")}
              onFit={() => fitAll({ duration: 300 })}
            />
            <FlashMessage message={flash} />
          </ReactFlow>
          {nodes.length === 0 && !readOnly ? <EmptyCanvasHint /> : null}
          <NodeMenu
            menu={menu}
            onClose={() => setMenu(null)}
            onRunUpTo={(nodeId) => run({ only_up_to: nodeId })}
            onRunFrom={(nodeId) => run({ start_from: nodeId })}
            onDuplicate={duplicateNode}
            onDelete={(nodeId) => removeNodes([nodeId])}
          />
        </div>
      </div>
    </EditorContext.Provider>
  );
}
