// The node palette: search by name, category or price, then drag a node onto the canvas
// or click it to add it in the middle of the view.

import { useMemo, useState } from "react";
import { DRAG_MIME } from "./graph.js";

// `<0.05`, `<=0.05`, `>0.1`: compare the price of one billed unit in US dollars.
const PRICE_FILTER = /^([<>]=?)\$?(\d+(?:\.\d+)?)$/;

function matchesToken(spec, token) {
  const price = PRICE_FILTER.exec(token);
  if (price) {
    if (spec.price_usd === null || spec.price_usd === undefined) return false;
    const limit = Number.parseFloat(price[2]);
    const compare = { "<": (a) => a < limit, "<=": (a) => a <= limit, ">": (a) => a > limit, ">=": (a) => a >= limit };
    return compare[price[1]](spec.price_usd);
  }
  if (token === "free") return spec.price_usd === 0;
  const haystack = `${spec.title} ${spec.type} ${spec.category} ${spec.price}`.toLowerCase();
  return haystack.includes(token);
}

export function filterCatalog(catalog, query) {
  const tokens = query.toLowerCase().split(/\s+/).filter(Boolean);
  return catalog.filter((spec) => tokens.every((token) => matchesToken(spec, token)));
}

function groupByCategory(specs) {
  const groups = new Map();
  for (const spec of specs) {
    if (!groups.has(spec.category)) groups.set(spec.category, []);
    groups.get(spec.category).push(spec);
  }
  return [...groups.entries()];
}

function PaletteToggle({ collapsed, onToggle }) {
  return (
    <button
      type="button"
      className="ff-panel-toggle"
      id="palette-toggle"
      aria-expanded={!collapsed}
      title={collapsed ? "Show the node palette" : "Hide the node palette"}
      onClick={onToggle}
    >
      {collapsed ? "»" : "«"}
    </button>
  );
}

export default function Palette({ catalog, onAdd, disabled, collapsed, onToggle }) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => groupByCategory(filterCatalog(catalog, query)), [catalog, query]);
  if (collapsed) {
    return (
      <aside className="ff-palette ff-palette-rail" aria-label="Node palette (hidden)">
        <PaletteToggle collapsed onToggle={onToggle} />
      </aside>
    );
  }
  return (
    <aside className="ff-palette" aria-label="Node palette">
      <div className="ff-palette-head">
        <input
          className="ff-control ff-search"
          id="palette-search"
          type="search"
          placeholder="Search nodes…"
          title="Search by name, category or price: free, <0.05, >=0.1 (US dollars per unit)"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
        <PaletteToggle collapsed={false} onToggle={onToggle} />
      </div>
      <div className="ff-palette-list">
        {groups.length === 0 ? <div className="ff-field-note">No node matches “{query}”.</div> : null}
        {groups.map(([category, specs]) => (
          <section key={category} className="ff-palette-group">
            <h4>{category}</h4>
            {specs.map((spec) => (
              <div
                key={spec.type}
                className="ff-palette-item"
                data-type={spec.type}
                draggable={!disabled}
                role="button"
                tabIndex={0}
                title={`${spec.type}\n${spec.description || ""}\nDrag onto the canvas or click to add.`}
                onDragStart={(event) => {
                  event.dataTransfer.setData(DRAG_MIME, spec.type);
                  event.dataTransfer.effectAllowed = "copy";
                }}
                onClick={() => !disabled && onAdd(spec.type)}
                onKeyDown={(event) => {
                  if (event.key === "Enter" && !disabled) onAdd(spec.type);
                }}
              >
                <span className="ff-palette-title">{spec.title}</span>
                <span className="ff-palette-price">{spec.price}</span>
              </div>
            ))}
          </section>
        ))}
      </div>
      <div className="ff-shortcuts">
        <b>Shortcuts</b> Ctrl/⌘+Z undo · Shift+Ctrl/⌘+Z or Ctrl+Y redo · Ctrl/⌘+C/V copy/paste · Delete removes ·
        Ctrl/⌘+Enter runs · right-click a node to run up to or from it
      </div>
    </aside>
  );
}
