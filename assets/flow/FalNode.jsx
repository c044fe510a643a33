// The custom node: a header (title, category, price hint, status badge, menu), one row per
// input port or param, one row per output port, then the node's part of the run.
// Rows that need no attention fold into "More settings" to keep nodes compact.

import { memo, useContext, useEffect, useState } from "react";
import { Handle, Position, useUpdateNodeInternals } from "@xyflow/react";
import { EditorContext } from "./context.js";
import { nodePorts, parsePortType } from "./graph.js";
import { FieldLabel, FieldProblems, ParamControl } from "./ParamField.jsx";
import ImagePicker from "./ImagePicker.jsx";
import { NodeRunStatus, StatusBadge } from "./NodeRunStatus.jsx";

const IMAGE_INPUT_TYPE = "util/image-input";
const NO_PROBLEMS = [];
const NO_PORTS = new Set();

function portClasses(type, problems) {
  const { kind, list } = parsePortType(type);
  return `ff-handle ff-kind-${kind} ${list ? "ff-handle-list" : ""} ${problems.length ? "ff-handle-problem" : ""}`;
}

// A problem may name both the port and the param of one row; it is listed once.
function problemsOfRow(problems, name) {
  return problems.filter((problem) => problem.port === name || problem.param === name);
}

// A template's placeholder inputs take a connected text or one typed into the node.
function placeholderParam(port) {
  return {
    name: port.name, type: "text", default: null, minimum: null, maximum: null, enum: null,
    enum_is_partial: false, required: port.required, description: "", order: 0, connectable: true, format: null,
  };
}

function buildRows(spec, params, check, connectedInputs) {
  const ports = nodePorts(spec, check);
  const paramsByName = Object.fromEntries((spec?.params || []).map((param) => [param.name, param]));
  const rows = ports.inputs.map((port) => ({
    name: port.name,
    port,
    param: paramsByName[port.name] || (spec?.template_param ? placeholderParam(port) : null),
  }));
  const inputNames = new Set(ports.inputs.map((port) => port.name));
  const extra = (spec?.params || [])
    .filter((param) => !inputNames.has(param.name))
    .sort((left, right) => left.order - right.order)
    .map((param) => ({ name: param.name, port: null, param }));
  const problems = check?.problems || NO_PROBLEMS;
  return [...extra.filter((row) => row.param.required), ...rows, ...extra.filter((row) => !row.param.required)].map((row) => {
    const rowProblems = problemsOfRow(problems, row.name);
    const connected = connectedInputs.has(row.name);
    const important =
      !row.param ||
      row.param.required ||
      connected ||
      rowProblems.length > 0 ||
      (params && params[row.name] !== undefined) ||
      row.param.format === "multiline";
    return { ...row, problems: rowProblems, connected, important };
  });
}

function NodeHeader({ id, data, spec, status, check, onMenu, onRename, readOnly }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState("");
  const title = data.label || spec?.title || data.type;
  const batch = check?.batch_count && check.batch_count > 1 ? check.batch_count : null;
  return (
    <div className="ff-node-header">
      <div className="ff-title-row">
        {editing ? (
          <input
            className="ff-control ff-title-input nodrag"
            autoFocus
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onBlur={() => {
              setEditing(false);
              onRename(draft);
            }}
            onKeyDown={(event) => {
              if (event.key === "Enter") event.currentTarget.blur();
              if (event.key === "Escape") setEditing(false);
            }}
          />
        ) : (
          <span
            className="ff-title"
            title={`${spec?.type || data.type} (double-click to rename)`}
            onDoubleClick={() => {
              if (readOnly) return;
              setDraft(data.label || "");
              setEditing(true);
            }}
          >
            {title}
          </span>
        )}
        {status?.reused && status.status !== "reused" ? <span className="ff-badge ff-reused" title="Outputs taken from an earlier run at no cost">reused</span> : null}
        <StatusBadge status={status} />
        <button type="button" className="ff-menu-button nodrag" aria-label="Node menu" onClick={(event) => onMenu(id, event)}>
          ⋯
        </button>
      </div>
      <div className="ff-subtitle">
        <span className="ff-category">{spec?.category || "unknown"}</span>
        <span className="ff-price" title="fal's price rule for this endpoint">{spec?.price}</span>
        {check?.credits ? <span className="ff-estimate" title="Estimated for these settings">≈ {check.credits.toLocaleString()} credits</span> : null}
        {batch ? <span className="ff-batch-count" title="Runs once per item of the connected list">× {batch} items</span> : null}
      </div>
    </div>
  );
}

function InputRow({ row, nodeId, value, setParam, readOnly }) {
  const invalid = row.problems.length > 0;
  return (
    <div className={`ff-row ${invalid ? "ff-row-problem" : ""}`} data-row={row.name}>
      {row.port ? (
        <Handle
          type="target"
          position={Position.Left}
          id={row.port.name}
          className={portClasses(row.port.type, row.problems)}
          title={`${row.port.name}: ${row.port.type}${invalid ? ` (${row.problems[0].message})` : ""}`}
        />
      ) : null}
      <FieldLabel name={row.name} required={row.param?.required || row.port?.required} type={(row.param || row.port).type} />
      {row.connected ? (
        <div className="ff-connected">connected</div>
      ) : row.param ? (
        readOnly ? (
          <div className="ff-readonly">{String(value ?? row.param.default ?? "")}</div>
        ) : (
          <ParamControl param={row.param} value={value} invalid={invalid} onChange={(next) => setParam(nodeId, { [row.name]: next })} />
        )
      ) : null}
      <FieldProblems problems={row.problems} />
    </div>
  );
}

function FalNode({ id, data, selected }) {
  const ctx = useContext(EditorContext);
  const [expanded, setExpanded] = useState(false);
  const updateNodeInternals = useUpdateNodeInternals();
  const spec = ctx.catalog[data.type];
  const status = ctx.status[id];
  const check = ctx.checks[id];
  const problems = check?.problems || NO_PROBLEMS;
  const connectedInputs = ctx.connected[id] || NO_PORTS;
  const rows = buildRows(spec, data.params, check, connectedInputs);
  const outputs = nodePorts(spec, check).outputs;
  const visible = rows.filter((row) => expanded || row.important);
  const hidden = rows.length - visible.length;
  const signature = `${visible.map((row) => row.name).join(",")}|${outputs.map((port) => port.name).join(",")}`;

  // React Flow measures handles when a node mounts, so it must hear when the set of handles changes.
  useEffect(() => updateNodeInternals(id), [id, signature, updateNodeInternals]);

  const nodeProblems = problems.filter((problem) => !problem.port && !problem.param);
  const classes = [
    "ff-node",
    status ? `ff-node-${status.status}` : "",
    problems.length ? "ff-node-problem" : "",
    selected ? "ff-node-selected" : "",
  ].join(" ");

  if (!spec) {
    return (
      <div className={`${classes} ff-node-unknown`}>
        <div className="ff-node-header"><span className="ff-title">{data.type}</span></div>
        <FieldProblems problems={problems.length ? problems : [{ message: `'${data.type}' is not in the node catalog.` }]} />
      </div>
    );
  }

  const setParam = ctx.setParams;
  return (
    <div className={classes} data-node-type={data.type} title={problems.length ? problems.map((p) => p.message).join("\n") : undefined}>
      <NodeHeader
        id={id}
        data={data}
        spec={spec}
        status={status}
        check={check}
        onMenu={ctx.openMenu}
        onRename={(label) => ctx.setLabel(id, label)}
        readOnly={ctx.readOnly}
      />
      <FieldProblems problems={nodeProblems} />
      {data.type === IMAGE_INPUT_TYPE && !ctx.readOnly ? (
        <>
          <ImagePicker apiBase={ctx.apiBase} assetId={data.params?.asset_id} onPick={(values) => setParam(id, values)} />
          <FieldProblems problems={problemsOfRow(problems, "asset_id")} />
        </>
      ) : null}
      <div className="ff-rows">
        {visible
          .filter((row) => !(data.type === IMAGE_INPUT_TYPE && row.name === "asset_id"))
          .map((row) => (
            <InputRow key={row.name} row={row} nodeId={id} value={data.params?.[row.name]} setParam={setParam} readOnly={ctx.readOnly} />
          ))}
        {hidden > 0 || expanded ? (
          <button type="button" className="ff-more nodrag" onClick={() => setExpanded(!expanded)}>
            {expanded ? "Fewer settings" : `More settings (${hidden})`}
          </button>
        ) : null}
        {outputs.map((port) => (
          <div key={port.name} className="ff-row ff-output-row" data-output={port.name}>
            <span className="ff-output-name">
              {port.name}
              <span className={`ff-type ff-kind-${parsePortType(port.type).kind}`}>
                {parsePortType(port.type).list ? `${parsePortType(port.type).kind}[]` : parsePortType(port.type).kind}
              </span>
            </span>
            <Handle
              type="source"
              position={Position.Right}
              id={port.name}
              className={portClasses(port.type, NO_PROBLEMS)}
              title={`${port.name}: ${port.type}`}
            />
          </div>
        ))}
      </div>
      <NodeRunStatus status={status} apiBase={ctx.apiBase} onOpenPreview={ctx.openPreview} />
    </div>
  );
}

export default memo(FalNode);
