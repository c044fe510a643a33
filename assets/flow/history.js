// Undo and redo stacks of whole documents, one pair per workflow, kept in localStorage so
// that they survive a reload. Each step is sent to the server as a "replace" change and
// saved as a new version, so the version history on the server stays linear.

import { sameDocument } from "./graph.js";

const MAX_STEPS = 50;
const EMPTY = () => ({ undo: [], redo: [] });

function storageKey(workflowId) {
  return `falflow.history.${workflowId}`;
}

function read(workflowId) {
  try {
    const parsed = JSON.parse(window.localStorage.getItem(storageKey(workflowId)) || "null");
    if (parsed && Array.isArray(parsed.undo) && Array.isArray(parsed.redo)) return parsed;
  } catch (error) {
    console.warn("falflow: the undo history could not be read; starting a new one", error);
  }
  return EMPTY();
}

function write(workflowId, history) {
  history.undo = history.undo.slice(-MAX_STEPS);
  history.redo = history.redo.slice(-MAX_STEPS);
  for (let attempt = 0; attempt < 4; attempt += 1) {
    try {
      window.localStorage.setItem(storageKey(workflowId), JSON.stringify(history));
      return;
    } catch (error) {
      // Storage is full: keep the newest half of each stack and try again.
      history.undo = history.undo.slice(Math.floor(history.undo.length / 2));
      history.redo = history.redo.slice(Math.floor(history.redo.length / 2));
    }
  }
}

export function recordUndo(workflowId, documentBefore) {
  if (!workflowId || !documentBefore) return;
  const history = read(workflowId);
  const last = history.undo[history.undo.length - 1];
  if (!last || !sameDocument(last, documentBefore)) history.undo.push(documentBefore);
  history.redo = [];
  write(workflowId, history);
}

function step(workflowId, current, from, to) {
  const history = read(workflowId);
  while (history[from].length) {
    const candidate = history[from].pop();
    if (!sameDocument(candidate, current)) {
      history[to].push(current);
      write(workflowId, history);
      return candidate;
    }
  }
  write(workflowId, history);
  return null;
}

export function stepBack(workflowId, current) {
  return step(workflowId, current, "undo", "redo");
}

export function stepForward(workflowId, current) {
  return step(workflowId, current, "redo", "undo");
}

export function historySizes(workflowId) {
  const history = read(workflowId);
  return { undo: history.undo.length, redo: history.redo.length };
}
