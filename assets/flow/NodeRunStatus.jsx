// A node's part of the live run: status badge, progress, queue position, batch items,
// the last log lines and previews of its outputs. Previews load from the asset routes,
// so no media bytes pass through the websocket.

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

function Preview({ preview, apiBase }) {
  const file = `${apiBase}/api/assets/${preview.asset_id}/file`;
  if (preview.kind === "image") {
    return (
      <a href={file} target="_blank" rel="noreferrer" className="ff-preview-link nodrag">
        <img className="ff-preview" src={`${apiBase}/api/assets/${preview.asset_id}/thumbnail`} alt="Output" loading="lazy" />
      </a>
    );
  }
  if (preview.kind === "video") {
    return <video className="ff-preview ff-preview-video nodrag nowheel" src={file} controls preload="metadata" />;
  }
  if (preview.kind === "audio") {
    return <audio className="ff-preview-audio nodrag" src={file} controls preload="none" />;
  }
  return (
    <a href={file} target="_blank" rel="noreferrer" className="ff-preview-file nodrag">Open output</a>
  );
}

export function NodeRunStatus({ status, apiBase }) {
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
            <Preview key={preview.asset_id} preview={preview} apiBase={apiBase} />
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
