// One output preview on a node. With an `onOpen` handler (the editor) a click opens the
// asset in the page's output dialog; without one (read-only canvases) the file opens in a
// new tab. Previews load from the asset routes, so no media bytes pass the websocket.

function openOnKey(event, open) {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    open();
  }
}

export default function OutputPreview({ preview, apiBase, onOpen }) {
  const file = `${apiBase}/api/assets/${preview.asset_id}/file`;
  const open = () => onOpen({ asset_id: preview.asset_id, kind: preview.kind });
  if (preview.kind === "image") {
    const image = (
      <img className="ff-preview" src={`${apiBase}/api/assets/${preview.asset_id}/thumbnail`} alt="Output" loading="lazy" />
    );
    if (!onOpen) {
      return <a href={file} target="_blank" rel="noreferrer" className="ff-preview-link nodrag">{image}</a>;
    }
    return (
      <button type="button" className="ff-preview-link ff-preview-button nodrag" title="Open this output"
        data-asset-id={preview.asset_id} onClick={open}>
        {image}
      </button>
    );
  }
  if (preview.kind === "video") {
    return (
      <div className="ff-preview-video">
        <video className="ff-preview nodrag nowheel" src={file} controls preload="metadata" />
        {onOpen ? (
          <button type="button" className="ff-more nodrag" data-asset-id={preview.asset_id} onClick={open}>Open larger</button>
        ) : null}
      </div>
    );
  }
  if (preview.kind === "audio") {
    return <audio className="ff-preview-audio nodrag" src={file} controls preload="none" />;
  }
  if (onOpen) {
    return (
      <span className="ff-preview-file nodrag" role="button" tabIndex={0} data-asset-id={preview.asset_id}
        onClick={open} onKeyDown={(event) => openOnKey(event, open)}>
        Open output
      </span>
    );
  }
  return <a href={file} target="_blank" rel="noreferrer" className="ff-preview-file nodrag">Open output</a>;
}
