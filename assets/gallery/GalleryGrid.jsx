// The asset gallery grid: cursor-paged infinite scroll over /api/assets, rendered virtually.
//
// Only the tiles of the rows near the viewport are in the DOM, so a gallery of thousands of
// assets costs about as much as one screenful. Pages are fetched by the browser itself, so
// the asset list never passes through Reflex state. Reflex sends filters (`query`), local
// edits (`patches`: id -> {favourite, deleted}) and `reloadKey`, and hears back through
// `onOpen(assetId)` and `onStatus({loaded, done, loading, error})`.
import React, { useCallback, useEffect, useMemo, useRef, useState } from "react";

const TILE_PX = 184;
const GAP_PX = 12;
const ROW_PX = TILE_PX + GAP_PX;
// Rows rendered above and below the visible ones, so fast scrolling shows no blank rows.
const OVERSCAN_ROWS = 3;
// Start fetching the next page while the end of the list is this far below the viewport.
const PREFETCH_PX = 900;

const KIND_GLYPHS = { video: "▶", audio: "♪", text: "T", json: "{ }" };

const STYLES = `
.gallery-scroller { position: relative; overflow-y: auto; overflow-x: hidden; width: 100%; }
.gallery-tile { position: absolute; padding: 0; border: 1px solid var(--gray-5); border-radius: 8px;
  background: var(--gray-3); overflow: hidden; cursor: pointer; color: var(--gray-11); }
.gallery-tile:hover, .gallery-tile:focus-visible { border-color: var(--violet-9); outline: none; }
.gallery-tile[data-selected="true"] { border-color: var(--violet-10); box-shadow: 0 0 0 2px var(--violet-8); }
.gallery-tile img { width: 100%; height: 100%; object-fit: cover; display: block; }
.gallery-tile-placeholder { display: flex; align-items: center; justify-content: center; width: 100%;
  height: 100%; font-size: 2.2rem; }
.gallery-tile-badges { position: absolute; left: 6px; top: 6px; display: flex; gap: 4px; }
.gallery-badge { font: 600 11px/1.6 system-ui, sans-serif; padding: 0 6px; border-radius: 4px;
  background: rgba(0, 0, 0, 0.65); color: #fff; text-transform: uppercase; letter-spacing: 0.02em; }
.gallery-badge-sandbox { background: var(--amber-9); color: #241a00; }
.gallery-tile-favourite { position: absolute; right: 8px; top: 4px; color: var(--amber-9); font-size: 20px;
  text-shadow: 0 1px 2px rgba(0, 0, 0, 0.7); }
.gallery-footer { position: absolute; left: 0; right: 0; text-align: center; color: var(--gray-10);
  font: 13px system-ui, sans-serif; padding: 12px 0; }
.gallery-footer button { margin-left: 8px; }
`;

function Tile({ asset, favourite, selected, apiBase, top, left, onOpen }) {
  const label = asset.prompt || asset.endpoint_id || asset.original_filename || asset.kind;
  return (
    <button
      type="button"
      className="gallery-tile"
      data-asset-id={asset.id}
      data-kind={asset.kind}
      data-selected={selected ? "true" : "false"}
      style={{ top, left, width: TILE_PX, height: TILE_PX }}
      title={label}
      onClick={() => onOpen && onOpen(asset.id)}
    >
      {asset.thumbnail_url ? (
        <img src={apiBase + asset.thumbnail_url} loading="lazy" decoding="async" alt={label} />
      ) : (
        <span className="gallery-tile-placeholder">{KIND_GLYPHS[asset.kind] || "?"}</span>
      )}
      <span className="gallery-tile-badges">
        {asset.sandbox ? <span className="gallery-badge gallery-badge-sandbox">sandbox</span> : null}
        {asset.kind !== "image" ? <span className="gallery-badge">{asset.kind}</span> : null}
      </span>
      {favourite ? <span className="gallery-tile-favourite" aria-label="favourite">★</span> : null}
    </button>
  );
}

// Fetch state lives in a ref, so the loader never reads a stale cursor from an old render.
function usePagedAssets(apiBase, query, pageSize, reloadKey) {
  const [items, setItems] = useState([]);
  const [status, setStatus] = useState({ done: false, loading: false, error: "" });
  const pager = useRef({ generation: 0, cursor: null, done: false, loading: false, failed: false });

  const loadMore = useCallback(async () => {
    const state = pager.current;
    if (state.loading || state.done || state.failed) return;
    state.loading = true;
    setStatus((old) => ({ ...old, loading: true }));
    const generation = state.generation;
    const params = new URLSearchParams(query);
    params.set("limit", String(pageSize));
    if (state.cursor) params.set("cursor", state.cursor);
    let error = "";
    try {
      const response = await fetch(`${apiBase}/api/assets?${params}`, { credentials: "include" });
      const body = await response.json().catch(() => ({}));
      if (generation !== pager.current.generation) return;
      if (!response.ok) {
        error = body.detail || `The gallery could not be loaded (HTTP ${response.status}).`;
      } else {
        state.cursor = body.next_cursor || null;
        state.done = !body.next_cursor;
        setItems((old) => old.concat(body.items || []));
      }
    } catch (exc) {
      error = `The server could not be reached: ${exc.message}`;
    }
    if (generation !== pager.current.generation) return;
    state.loading = false;
    state.failed = error !== "";
    setStatus({ done: state.done, loading: false, error });
  }, [apiBase, query, pageSize]);

  useEffect(() => {
    pager.current = { generation: pager.current.generation + 1, cursor: null, done: false, loading: false, failed: false };
    setItems([]);
    setStatus({ done: false, loading: false, error: "" });
    loadMore();
  }, [loadMore, reloadKey]);

  const retry = useCallback(() => {
    pager.current.failed = false;
    loadMore();
  }, [loadMore]);

  return { items, status, loadMore, retry };
}

function useViewport(scroller) {
  const [viewport, setViewport] = useState({ width: 0, height: 0, top: 0 });
  useEffect(() => {
    const element = scroller.current;
    if (!element) return undefined;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setViewport({ width: element.clientWidth, height: element.clientHeight, top: element.scrollTop });
    };
    const schedule = () => {
      if (!frame) frame = requestAnimationFrame(measure);
    };
    const resizes = new ResizeObserver(schedule);
    resizes.observe(element);
    element.addEventListener("scroll", schedule, { passive: true });
    measure();
    return () => {
      resizes.disconnect();
      element.removeEventListener("scroll", schedule);
      if (frame) cancelAnimationFrame(frame);
    };
  }, [scroller]);
  return viewport;
}

export default function GalleryGrid({
  apiBase = "",
  query = "",
  pageSize = 60,
  reloadKey = 0,
  patches = {},
  selectedId = "",
  gridHeight = "70vh",
  onOpen,
  onStatus,
}) {
  const scroller = useRef(null);
  const sentinel = useRef(null);
  const { items, status, loadMore, retry } = usePagedAssets(apiBase, query, pageSize, reloadKey);
  const viewport = useViewport(scroller);

  const visible = useMemo(
    () => items.filter((asset) => !(patches[asset.id] && patches[asset.id].deleted)),
    [items, patches],
  );

  const columns = Math.max(1, Math.floor((viewport.width + GAP_PX) / ROW_PX));
  // Centre the columns, so the space left over splits evenly between both sides.
  const inset = Math.max(0, Math.floor((viewport.width + GAP_PX - columns * ROW_PX) / 2));
  const rowCount = Math.ceil(visible.length / columns);
  const contentHeight = rowCount * ROW_PX;
  const firstRow = Math.max(0, Math.floor(viewport.top / ROW_PX) - OVERSCAN_ROWS);
  const lastRow = Math.min(rowCount - 1, Math.ceil((viewport.top + viewport.height) / ROW_PX) + OVERSCAN_ROWS);
  const firstIndex = firstRow * columns;
  const shown = visible.slice(firstIndex, (lastRow + 1) * columns);

  // The sentinel sits at the end of the list, and seeing it (with a margin) fetches the next page.
  useEffect(() => {
    const root = scroller.current;
    const target = sentinel.current;
    if (!root || !target) return undefined;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) loadMore();
      },
      { root, rootMargin: `0px 0px ${PREFETCH_PX}px 0px` },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [loadMore]);

  // The observer reports only changes: when a page lands and the user scrolls on within the same
  // frame, the sentinel never leaves the margin and no new intersection fires. So every scroll
  // frame, resize and finished fetch also checks the distance to the end.
  useEffect(() => {
    const root = scroller.current;
    if (root && root.scrollHeight - root.scrollTop - root.clientHeight < PREFETCH_PX) loadMore();
  }, [visible.length, viewport.top, viewport.height, status.loading, loadMore]);

  useEffect(() => {
    if (onStatus) {
      onStatus({ loaded: visible.length, done: status.done, loading: status.loading, error: status.error });
    }
  }, [visible.length, status.done, status.loading, status.error]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="gallery-scroller" ref={scroller} style={{ height: gridHeight }} id="gallery-grid">
      <style>{STYLES}</style>
      <div style={{ position: "relative", height: contentHeight + 56 }}>
        {shown.map((asset, offset) => {
          const index = firstIndex + offset;
          const patch = patches[asset.id] || {};
          return (
            <Tile
              key={asset.id}
              asset={asset}
              favourite={patch.favourite !== undefined ? patch.favourite : asset.favourite}
              selected={asset.id === selectedId}
              apiBase={apiBase}
              top={Math.floor(index / columns) * ROW_PX}
              left={inset + (index % columns) * ROW_PX}
              onOpen={onOpen}
            />
          );
        })}
        <div ref={sentinel} style={{ position: "absolute", top: contentHeight, height: 1, width: 1 }} />
        <div className="gallery-footer" style={{ top: contentHeight }} id="gallery-footer">
          {status.loading ? "Loading…" : null}
          {status.error ? (
            <span role="alert">
              {status.error}
              <button type="button" onClick={retry}>Retry</button>
            </span>
          ) : null}
          {status.done && visible.length > 0 ? `${visible.length.toLocaleString()} assets` : null}
        </div>
      </div>
    </div>
  );
}
