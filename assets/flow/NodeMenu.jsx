// The node menu, opened by right-clicking a node or by its "⋯" button.

export default function NodeMenu({ menu, onRunUpTo, onRunFrom, onDuplicate, onDelete, onClose }) {
  if (!menu) return null;
  const item = (label, action, id) => (
    <button
      type="button"
      className="ff-menu-item"
      data-action={id}
      onClick={() => {
        onClose();
        action(menu.nodeId);
      }}
    >
      {label}
    </button>
  );
  return (
    <div className="ff-menu" style={{ left: menu.x, top: menu.y }} role="menu" onContextMenu={(event) => event.preventDefault()}>
      {item("Run up to here", onRunUpTo, "run-up-to")}
      {item("Run from here", onRunFrom, "run-from")}
      <div className="ff-menu-separator" />
      {item("Duplicate", onDuplicate, "duplicate")}
      {item("Delete", onDelete, "delete")}
    </div>
  );
}
