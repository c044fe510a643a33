// The image input node's picker: choose one of the user's image assets by thumbnail, or
// upload a file through `POST /api/assets`. The session cookie authenticates both requests.

import { useRef, useState } from "react";

const PAGE_SIZE = 24;
const ACCEPTED = "image/png,image/jpeg,image/webp,image/gif";

async function readJson(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.detail || `The request failed with HTTP status ${response.status}.`);
  }
  return body;
}

export default function ImagePicker({ apiBase, assetId, onPick }) {
  const [assets, setAssets] = useState(null);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const fileInput = useRef(null);

  const load = async () => {
    setOpen(true);
    setError("");
    try {
      const response = await fetch(`${apiBase}/api/assets?kind=image&limit=${PAGE_SIZE}`, { credentials: "include" });
      setAssets((await readJson(response)).items || []);
    } catch (loadError) {
      setError(`Your images could not be loaded: ${loadError.message}`);
    }
  };

  const upload = async (file) => {
    if (!file) return;
    setBusy(true);
    setError("");
    try {
      const form = new FormData();
      form.append("file", file);
      const response = await fetch(`${apiBase}/api/assets`, { method: "POST", body: form, credentials: "include" });
      const asset = await readJson(response);
      onPick({ asset_id: asset.id, width: asset.width ?? null, height: asset.height ?? null });
      setOpen(false);
    } catch (uploadError) {
      setError(`Upload failed: ${uploadError.message}`);
    } finally {
      setBusy(false);
      if (fileInput.current) fileInput.current.value = "";
    }
  };

  return (
    <div className="ff-picker nodrag nowheel">
      {assetId ? (
        <img className="ff-picker-chosen" src={`${apiBase}/api/assets/${assetId}/thumbnail`} alt="Chosen input" />
      ) : (
        <div className="ff-picker-empty">No image chosen</div>
      )}
      <div className="ff-picker-actions">
        <button type="button" className="ff-button nodrag" onClick={open ? () => setOpen(false) : load}>
          {open ? "Close" : "Choose…"}
        </button>
        <button type="button" className="ff-button nodrag" disabled={busy} onClick={() => fileInput.current?.click()}>
          {busy ? "Uploading…" : "Upload…"}
        </button>
        <input
          ref={fileInput}
          type="file"
          accept={ACCEPTED}
          className="ff-hidden-file"
          onChange={(event) => upload(event.target.files?.[0])}
        />
      </div>
      {error ? <div className="ff-field-problem">{error}</div> : null}
      {open && assets ? (
        assets.length === 0 ? (
          <div className="ff-field-note">No images yet: upload one, or run a workflow that makes images.</div>
        ) : (
          <div className="ff-picker-grid">
            {assets.map((asset) => (
              <button
                type="button"
                key={asset.id}
                className={`ff-picker-item nodrag ${asset.id === assetId ? "ff-picked" : ""}`}
                onClick={() => {
                  onPick({ asset_id: asset.id, width: asset.width ?? null, height: asset.height ?? null });
                  setOpen(false);
                }}
                title={asset.prompt || asset.original_filename || asset.id}
              >
                <img src={`${apiBase}${asset.thumbnail_url || `/api/assets/${asset.id}/thumbnail`}`} alt="" loading="lazy" />
              </button>
            ))}
          </div>
        )
      ) : null}
    </div>
  );
}
