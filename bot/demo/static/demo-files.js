// Files shared in the channel (the sign-off document `/readiness export` uploads): a
// file's card in its message, and a viewer over the page that shows what it holds. The
// demo server serves a file only as text/plain (/demo/files/<id>); here it becomes text
// nodes, never markup, so nothing in a document can run.
"use strict";

(function () {
  const { el } = window.Dom;
  const { $ } = window.Demo;

  function size(bytes) {
    if (typeof bytes !== "number") return "";
    if (bytes < 1024) return `${bytes} B`;
    return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  }

  function kind(name) {
    const dot = String(name || "").lastIndexOf(".");
    const ext = dot > 0 ? name.slice(dot + 1).toUpperCase() : "";
    return /^[A-Z0-9]{1,4}$/.test(ext) ? ext : "FILE";
  }

  function fileUrl(file) {
    return "/demo/files/" + encodeURIComponent(file.id);
  }

  // The file's card: a link to its text (a new tab with Ctrl or the middle button), which
  // a plain click opens in the viewer instead.
  function fileNode(file) {
    const link = el("a", "file");
    link.href = fileUrl(file);
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.dataset.fileId = file.id;
    const icon = el("span", "file-icon", kind(file.name));
    icon.setAttribute("aria-hidden", "true");
    const text = el("span", "file-text");
    text.append(el("span", "file-title", file.title || file.name));
    text.append(el("span", "file-meta", [file.name, size(file.size)].filter(Boolean).join(" · ")));
    link.append(icon, text);
    link.addEventListener("click", (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      openFile(file);
    });
    return link;
  }

  let onKey = null;
  function closeFile() {
    const layer = $("file-layer");
    layer.hidden = true;
    layer.replaceChildren();
    if (onKey) document.removeEventListener("keydown", onKey);
    onKey = null;
  }

  async function openFile(file) {
    closeFile();
    const layer = $("file-layer");
    const box = el("div", "dialog file-viewer");
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-label", file.title || file.name);
    box.dataset.fileId = file.id;
    const head = el("div", "modal-head");
    head.append(el("h2", "modal-title file-viewer-title", file.title || file.name));
    const close = el("button", "icon", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close file");
    close.addEventListener("click", closeFile);
    head.append(close);
    const meta = el("div", "file-viewer-meta");
    meta.append(el("span", "", [file.name, size(file.size)].filter(Boolean).join(" · ")));
    const raw = el("a", "link", "Open as plain text");
    raw.href = fileUrl(file);
    raw.target = "_blank";
    raw.rel = "noopener noreferrer";
    meta.append(raw);
    const body = el("pre", "file-body", "Loading…");
    body.tabIndex = 0;
    box.append(head, meta, body);
    layer.append(box);
    layer.hidden = false;
    onKey = (event) => { if (event.key === "Escape") closeFile(); };
    document.addEventListener("keydown", onKey);
    close.focus();
    let shown;
    try {
      const response = await fetch(fileUrl(file));
      const text = await response.text();
      shown = response.ok ? text : `The file could not be read: ${text.trim() || response.status}`;
    } catch (error) {
      shown = "The demo server is not answering.";
    }
    if (box.isConnected) body.replaceChildren(window.Mrkdwn.emojiChars(shown));
  }

  function startFiles() {
    $("file-layer").addEventListener("click", (event) => {
      if (event.target === event.currentTarget) closeFile();
    });
  }

  Object.assign(window.Demo, { fileNode, openFile, closeFile, startFiles });
})();
