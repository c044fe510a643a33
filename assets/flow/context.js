// The editor context of every node: the catalog, run status, problems, and the actions
// that report changes. Status and problems travel through this context instead of node
// data, so a status push never replaces the nodes and never moves them.

import { createContext } from "react";

export const EditorContext = createContext(null);
