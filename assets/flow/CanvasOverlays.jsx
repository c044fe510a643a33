// Small pieces drawn over the canvas: the undo/redo/fit toolbar, the flash message and
// the hint shown on an empty workflow.

import { useCallback, useRef, useState } from "react";
import { Panel } from "@xyflow/react";

const FLASH_MS = 4000;

// A short message that disappears after FLASH_MS.
export function useFlash() {
  const [message, setMessage] = useState("");
  const timer = useRef(null);
  const show = useCallback((text) => {
    setMessage(text);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setMessage(""), FLASH_MS);
  }, []);
  return [message, show];
}

export function CanvasToolbar({ canUndo, canRedo, onUndo, onRedo, onFit }) {
  return (
    <Panel position="top-right" className="ff-toolbar">
      <button type="button" className="ff-button" id="undo-button" disabled={!canUndo} onClick={onUndo} title="Undo (Ctrl/⌘+Z)">
        Undo
      </button>
      <button type="button" className="ff-button" id="redo-button" disabled={!canRedo} onClick={onRedo} title="Redo (Shift+Ctrl/⌘+Z)">
        Redo
      </button>
      <button type="button" className="ff-button" id="fit-view-button" onClick={onFit} title="Fit the whole workflow in view">
        Fit view
      </button>
    </Panel>
  );
}

export function FlashMessage({ message }) {
  if (!message) return null;
  return (
    <Panel position="bottom-center" className="ff-flash" id="canvas-flash">
      {message}
    </Panel>
  );
}

export function EmptyCanvasHint() {
  return (
    <div className="ff-empty">
      <p><b>This workflow is empty.</b></p>
      <p>
        Drag a node from the palette onto the canvas, or click it. A good start: <i>Text</i>, then
        <i> FLUX.1 [schnell]</i>. Connect the text output to the prompt input and press Run.
      </p>
    </div>
  );
}
