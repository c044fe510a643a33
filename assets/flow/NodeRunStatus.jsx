// A node's part of the live run: status badge, progress, queue position, batch items,
// the last log lines and previews of its outputs (see OutputPreview.jsx).

import OutputPreview from "./OutputPreview.jsx";

const STATUS_LABELS = {
  pending: "waiting",
  queued: "queued",
  submitted: "submitted",
  running: "running",
  succeeded: "done",
  reused: "reused",
  failed: "failed",
  blocked: "blocked",
  cancelled: "cancelled",
};

const ACTIVE = new Set(["queued", "submitted", "running"]);

export function StatusBadge({ status }) {
  if (!status) return null;
  return (
    <span className={`ff-status ff-status-${status.status}`} data-status={status.status}>
      {STATUS_LABELS[status.status] || status.status}
    </span>
  );
}

export function NodeRunStatus({ status, apiBase, onOpenPreview }) {
  if (!status) return null;
  const active = ACTIVE.has(status.status);
  const percent = status.progress === null || status.progress === undefined ? null : Math.round(status.progress * 100);
  const batch = status.batch_count && status.batch_count > 1 ? status.batch_count : null;
  return (
    <div className="ff-run">
      {active || percent !== null ? (
        <div className={`ff-progress ${active && percent === null ? "ff-progress-busy" : ""}`}>
          <div className="ff-progress-bar" style={{ width: `${percent ?? 30}%` }} />
        </div>
      ) : null}
      <div className="ff-run-facts">
        {status.queue_position !== null && status.queue_position !== undefined ? (
          <span className="ff-queue">Queue position {status.queue_position}</span>
        ) : null}
        {batch ? <span className="ff-batch">{status.items_done}/{batch} items</span> : null}
        {status.cost_credits ? <span>{status.cost_credits} credits</span> : null}
      </div>
      {status.error ? <div className="ff-run-error">{status.error}</div> : null}
      {status.logs && status.logs.length ? (
        <pre className="ff-logs nodrag nowheel">{status.logs.join("\n")}</pre>
      ) : null}
      {status.previews && status.previews.length ? (
        <div className="ff-previews">
          {status.previews.map((preview) => (
            <OutputPreview key={preview.asset_id} preview={preview} apiBase={apiBase} onOpen={onOpenPreview} />
          ))}
        </div>
      ) : null}
      {status.texts && status.texts.length ? (
        <div className="ff-texts nodrag nowheel">
          {status.texts.map((text, index) => <p key={index}>{text}</p>)}
        </div>
      ) : null}
    </div>
  );
}
