// Editor layout helpers: the remembered palette toggle, the fit-view padding that keeps
// nodes clear of the overlays, and no text selection while something is dragged.

import { useCallback, useEffect, useState } from "react";

const PALETTE_KEY = "falflow.palette.collapsed";
const DRAGGING_CLASS = "ff-dragging";

// Screen pixels kept free at each edge by fit view. The toolbar sits top-right, the zoom
// controls bottom-left, and the minimap (160 x 110 px plus its 15 px margin) bottom-right.
const EDGE_PX = 24;
const TOOLBAR_PX = 52;
const MINIMAP_WIDTH_PX = 190;
const MINIMAP_HEIGHT_PX = 140;

// The palette's collapsed state, stored in localStorage. The first render (also the one
// prerendered on the server) shows the palette open, then the stored choice applies.
export function usePaletteCollapsed() {
  const [collapsed, setCollapsed] = useState(false);
  useEffect(() => {
    setCollapsed(window.localStorage.getItem(PALETTE_KEY) === "1");
  }, []);
  const toggle = useCallback(() => {
    setCollapsed((current) => {
      const next = !current;
      window.localStorage.setItem(PALETTE_KEY, next ? "1" : "0");
      return next;
    });
  }, []);
  return [collapsed, toggle];
}

function zoomFor(bounds, width, height, padding) {
  const freeWidth = width - padding.left - padding.right;
  const freeHeight = height - padding.top - padding.bottom;
  if (freeWidth <= 0 || freeHeight <= 0) return 0;
  return Math.min(freeWidth / Math.max(bounds.width, 1), freeHeight / Math.max(bounds.height, 1));
}

// The minimap takes either a strip along the bottom or one along the right. This returns
// the `fitView` padding (in px) of whichever strip leaves the graph the larger zoom.
export function fitPadding(bounds, width, height) {
  const belowMinimap = { top: TOOLBAR_PX, left: EDGE_PX, right: EDGE_PX, bottom: MINIMAP_HEIGHT_PX };
  const besideMinimap = { top: TOOLBAR_PX, left: EDGE_PX, right: MINIMAP_WIDTH_PX, bottom: EDGE_PX + 30 };
  const best = zoomFor(bounds, width, height, belowMinimap) >= zoomFor(bounds, width, height, besideMinimap)
    ? belowMinimap
    : besideMinimap;
  return Object.fromEntries(Object.entries(best).map(([edge, px]) => [edge, `${px}px`]));
}

// Marks the document while a node, a selection or a wire is dragged, so that a pointer
// that leaves the canvas selects no page text (selected text would start a native
// drag-and-drop on the next press and swallow the next connection).
export function useDragSelectionGuard() {
  const end = useCallback(() => document.body.classList.remove(DRAGGING_CLASS), []);
  const begin = useCallback(() => {
    window.getSelection()?.removeAllRanges();
    document.body.classList.add(DRAGGING_CLASS);
    window.addEventListener("pointerup", end, { once: true });
  }, [end]);
  useEffect(() => end, [end]);
  return [begin, end];
}
