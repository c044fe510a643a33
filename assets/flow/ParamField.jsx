// Inline form fields generated from a catalog param: selects for enums, sliders or number
// fields for ranges, textareas for prompts, checkboxes for booleans. Every control carries
// `nodrag nowheel` so typing or scrolling in it never moves the canvas.

import { useEffect, useState } from "react";
import { parsePortType } from "./graph.js";

const CONTROL = "ff-control nodrag nowheel";
// Ranges at most this wide get a slider next to the number field (a seed's range does not).
const MAX_SLIDER_SPAN = 1000;

function displayName(name) {
  return name.replace(/_/g, " ");
}

function parseNumber(text, integer) {
  if (text === "" || text === "-") return null;
  const value = integer ? Number.parseInt(text, 10) : Number.parseFloat(text);
  return Number.isFinite(value) ? value : undefined;
}

function NumberInput({ param, value, onChange, invalid }) {
  const integer = parsePortType(param.type).kind === "integer";
  const [text, setText] = useState(value ?? "");
  useEffect(() => setText(value ?? ""), [value]);
  const hasRange = param.minimum !== null && param.maximum !== null;
  const slider = hasRange && param.maximum - param.minimum <= MAX_SLIDER_SPAN;
  const commit = (raw) => {
    setText(raw);
    const parsed = parseNumber(raw, integer);
    if (parsed !== undefined) onChange(parsed);
  };
  return (
    <div className="ff-number-row">
      {slider ? (
        <input
          type="range"
          className={`${CONTROL} ff-slider`}
          min={param.minimum}
          max={param.maximum}
          step={integer ? 1 : (param.maximum - param.minimum) / 100}
          value={value ?? param.minimum}
          onChange={(event) => commit(event.target.value)}
          aria-label={`${displayName(param.name)} slider`}
        />
      ) : null}
      <input
        type="number"
        className={`${CONTROL} ff-number ${invalid ? "ff-invalid" : ""}`}
        min={param.minimum ?? undefined}
        max={param.maximum ?? undefined}
        step={integer ? 1 : "any"}
        value={text}
        placeholder={param.default ?? ""}
        onChange={(event) => commit(event.target.value)}
        data-param={param.name}
      />
    </div>
  );
}

function JsonInput({ value, onChange, invalid, name }) {
  const [text, setText] = useState(value === undefined ? "" : JSON.stringify(value, null, 1));
  const [error, setError] = useState("");
  return (
    <>
      <textarea
        className={`${CONTROL} ${invalid || error ? "ff-invalid" : ""}`}
        rows={3}
        value={text}
        data-param={name}
        onChange={(event) => {
          setText(event.target.value);
          if (!event.target.value.trim()) {
            setError("");
            onChange(null);
            return;
          }
          try {
            onChange(JSON.parse(event.target.value));
            setError("");
          } catch (parseError) {
            setError("Not valid JSON yet; the last valid value is kept.");
          }
        }}
      />
      {error ? <div className="ff-field-note">{error}</div> : null}
    </>
  );
}

function ListInput({ value, onChange, invalid, name, placeholder }) {
  const lines = Array.isArray(value) ? value.join("\n") : "";
  return (
    <textarea
      className={`${CONTROL} ${invalid ? "ff-invalid" : ""}`}
      rows={3}
      value={lines}
      placeholder={placeholder}
      data-param={name}
      onChange={(event) => {
        const items = event.target.value.split("\n");
        onChange(items.some((item) => item.trim()) ? items : null);
      }}
    />
  );
}

function EnumSelect({ param, value, onChange, invalid }) {
  return (
    <select
      className={`${CONTROL} ${invalid ? "ff-invalid" : ""}`}
      value={value ?? ""}
      onChange={(event) => onChange(event.target.value === "" ? null : event.target.value)}
      data-param={param.name}
    >
      {value === null || value === undefined ? <option value="">Choose…</option> : null}
      {param.enum.map((option) => (
        <option key={option} value={option}>{option}</option>
      ))}
    </select>
  );
}

function TextInput({ param, value, onChange, invalid }) {
  const { kind } = parsePortType(param.type);
  const isMedia = ["image", "video", "audio"].includes(kind);
  const placeholder = isMedia ? "https://… (or connect a node)" : param.description || "";
  const text = typeof value === "string" ? value : value ?? "";
  const update = (event) => onChange(event.target.value === "" ? null : event.target.value);

  if (param.format === "multiline") {
    return (
      <textarea
        className={`${CONTROL} ${invalid ? "ff-invalid" : ""}`}
        rows={3}
        value={text}
        placeholder={placeholder || "Type here"}
        onChange={update}
        data-param={param.name}
      />
    );
  }

  // A partial enum suggests its known values but accepts others.
  const listId = param.enum ? `ff-options-${param.name}` : undefined;
  return (
    <>
      <input
        type="text"
        className={`${CONTROL} ${invalid ? "ff-invalid" : ""}`}
        value={text}
        list={listId}
        placeholder={placeholder}
        onChange={update}
        data-param={param.name}
      />
      {listId ? (
        <datalist id={listId}>
          {param.enum.map((option) => <option key={option} value={option} />)}
        </datalist>
      ) : null}
    </>
  );
}

export function ParamControl({ param, value, onChange, invalid }) {
  const { kind, list } = parsePortType(param.type);
  const effective = value ?? param.default;

  if (list) {
    const placeholder = kind === "text" ? "One item per line" : "One URL per line";
    return <ListInput value={effective} onChange={onChange} invalid={invalid} name={param.name} placeholder={placeholder} />;
  }
  if (kind === "boolean") {
    return (
      <input
        type="checkbox"
        className={`${CONTROL} ff-checkbox`}
        checked={Boolean(effective)}
        onChange={(event) => onChange(event.target.checked)}
        data-param={param.name}
      />
    );
  }
  if (param.enum && !param.enum_is_partial) {
    return <EnumSelect param={param} value={effective} onChange={onChange} invalid={invalid} />;
  }
  if (kind === "number" || kind === "integer") {
    return <NumberInput param={param} value={value} onChange={onChange} invalid={invalid} />;
  }
  if (kind === "json" || kind === "any") {
    return <JsonInput value={effective} onChange={onChange} invalid={invalid} name={param.name} />;
  }
  return <TextInput param={param} value={effective} onChange={onChange} invalid={invalid} />;
}

export function FieldLabel({ name, required, type }) {
  const { kind, list } = parsePortType(type);
  return (
    <span className="ff-field-label">
      {displayName(name)}
      {required ? <span className="ff-required" title="Required">*</span> : null}
      <span className={`ff-type ff-kind-${kind}`}>{list ? `${kind}[]` : kind}</span>
    </span>
  );
}

export function FieldProblems({ problems }) {
  if (!problems || problems.length === 0) return null;
  return (
    <div className="ff-field-problems">
      {problems.map((problem, index) => (
        <div key={index} className="ff-field-problem">{problem.message}</div>
      ))}
    </div>
  );
}
