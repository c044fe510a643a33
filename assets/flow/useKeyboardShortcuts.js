// Editor shortcuts on the whole window: Ctrl/⌘+Z undo, Shift+Ctrl/⌘+Z or Ctrl+Y redo,
// Ctrl/⌘+C and Ctrl/⌘+V copy and paste nodes, Ctrl/⌘+Enter run, Escape closes menus.
// Delete and Backspace are React Flow's own `deleteKeyCode`.

import { useEffect, useRef } from "react";

function isTypingTarget(target) {
  if (!target) return false;
  const tag = target.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
}

// `actions` may change on every render, and the listener always calls the newest ones.
export function useKeyboardShortcuts(actions) {
  const latest = useRef(actions);
  latest.current = actions;

  useEffect(() => {
    const onKeyDown = (event) => {
      if (event.key === "Escape") latest.current.escape();
      if (!(event.ctrlKey || event.metaKey)) return;
      const key = event.key.toLowerCase();
      if (key === "enter") {
        event.preventDefault();
        latest.current.run();
        return;
      }
      // Inputs keep their own undo, copy and paste.
      if (isTypingTarget(event.target)) return;
      if (key === "z" && !event.shiftKey) {
        event.preventDefault();
        latest.current.undo();
      } else if ((key === "z" && event.shiftKey) || key === "y") {
        event.preventDefault();
        latest.current.redo();
      } else if (key === "c") {
        latest.current.copy();
      } else if (key === "v") {
        event.preventDefault();
        latest.current.paste();
      }
    };
    // A param edit still waiting for its debounce is sent before the tab goes away.
    const onPageHide = () => latest.current.flush();
    window.addEventListener("keydown", onKeyDown);
    window.addEventListener("pagehide", onPageHide);
    return () => {
      window.removeEventListener("keydown", onKeyDown);
      window.removeEventListener("pagehide", onPageHide);
    };
  }, []);
}
