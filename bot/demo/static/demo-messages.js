// The channel shown and its open thread: their messages (with this person's ephemeral
// ones), each drawn from the snapshot and re-rendered only when it changed.
"use strict";

(function () {
  const { el } = window.Dom;
  const { $, state, post, context, fileNode, here, introNode } = window.Demo;

  function compareTs(a, b) {
    const [as, au] = a.split(".").map(Number);
    const [bs, bu] = b.split(".").map(Number);
    return as - bs || (au || 0) - (bu || 0);
  }

  function clock(ts) {
    const d = new Date(Number(ts.split(".")[0]) * 1000);
    return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  function hue(id) {
    let h = 0;
    for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 8;
    return "av-" + h;
  }

  function author(message, ephemeral) {
    const users = context().users;
    if (ephemeral || message.bot) return { id: "UBOT", real_name: "Readiness", app: true };
    const user = users[message.user];
    return user ? { id: user.id, real_name: user.real_name || user.name } : { id: message.user, real_name: message.user };
  }

  function messageNode(item, where) {
    const m = item.message;
    const ephemeral = item.kind === "ephemeral";
    const node = el("div", "message" + (ephemeral ? " ephemeral" : ""));
    node.dataset.ts = m.ts;
    node.dataset.kind = item.kind;
    const who = author(m, ephemeral);
    const avatar = el("div", "avatar " + (who.app ? "app" : hue(who.id)),
      who.app ? "R" : who.real_name.split(/\s+/).map((w) => w[0] || "").join("").slice(0, 2).toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    const body = el("div", "message-body");
    const head = el("div", "message-head");
    head.append(el("strong", "author", who.real_name));
    if (who.app) head.append(el("span", "badge", "APP"));
    head.append(el("span", "time", clock(m.ts)));
    if (ephemeral) head.append(el("span", "only-you", "Only visible to you"));
    body.append(head);
    const act = (element, block, value, control) => {
      if (control) control.classList.add("pending");
      post("/demo/click", {
        where: item.kind, channel: m.channel, ts: m.ts, action_id: element.action_id, value: value ?? null,
      }).finally(() => { if (control) control.classList.remove("pending"); });
    };
    const content = el("div", "message-content");
    if (m.blocks && m.blocks.length) content.append(window.Blocks.render(m.blocks, context(act)));
    else content.append(window.Mrkdwn.render(m.text, context()));
    body.append(content);
    for (const file of m.files || []) body.append(fileNode(file));
    if (ephemeral) {
      const dismiss = el("button", "link-button", "Dismiss message");
      dismiss.type = "button";
      dismiss.addEventListener("click", () => {
        state.dismissed.add(state.me + ":" + m.ts);
        renderChannel();
        renderThread();
      });
      body.append(dismiss);
    } else if (m.reply_count && where === "channel") {
      const replies = el("button", "replies", `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`);
      replies.type = "button";
      replies.addEventListener("click", () => openThread(m.ts));
      body.append(replies);
    }
    node.append(avatar, body);
    return node;
  }

  // Re-render only what changed, so an open menu or a focused button survives updates.
  function keyed(container, cache, items, where, lead) {
    const list = container;
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
    const next = new Map();
    const nodes = lead ? [lead] : [];
    for (const item of items) {
      const key = item.kind + ":" + item.message.ts;
      const sig = JSON.stringify(item.message) + "|" + state.me + "|" + where;
      const old = cache.get(key);
      let node = old ? old.node : null;
      if (!old) {
        node = messageNode(item, where);
      } else if (old.sig !== sig) { // the same message, edited: keep its element
        const menu = window.Blocks.openMenu(node);
        const fresh = messageNode(item, where);
        node.className = fresh.className;
        node.replaceChildren(...fresh.childNodes);
        window.Blocks.reopenMenu(node, menu);
      }
      next.set(key, { sig, node });
      nodes.push(node);
    }
    const same = nodes.length === list.children.length
      && nodes.every((node, i) => list.children[i] === node);
    if (!same) list.replaceChildren(...nodes);
    cache.clear();
    for (const [key, value] of next) cache.set(key, value);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  // The messages and ephemerals of the channel shown.
  function shown() {
    const id = here().id;
    return {
      messages: state.snap.messages.filter((m) => m.channel === id),
      ephemerals: state.snap.ephemerals.filter((m) => m.channel === id),
    };
  }

  function renderChannel() {
    const snap = shown();
    const items = [];
    for (const message of snap.messages) if (!message.thread_ts) items.push({ kind: "message", message });
    for (const message of snap.ephemerals) {
      if (!message.thread_ts && !state.dismissed.has(state.me + ":" + message.ts)) items.push({ kind: "ephemeral", message });
    }
    items.sort((a, b) => compareTs(a.message.ts, b.message.ts));
    keyed($("messages"), state.rendered.messages, items, "channel", introNode());
  }

  function openThread(ts) {
    state.threadTs = ts;
    state.threadClosed = false;
    renderThread();
  }

  function renderThread() {
    const snap = shown();
    const pane = $("thread");
    if (!state.threadTs && !state.threadClosed) {
      const withReplies = snap.messages.filter((m) => !m.thread_ts && m.reply_count);
      if (withReplies.length) state.threadTs = withReplies[withReplies.length - 1].ts;
    }
    const parent = snap.messages.find((m) => m.ts === state.threadTs && !m.thread_ts);
    if (!parent || state.threadClosed || state.place !== "channel") {
      pane.hidden = true;
      document.body.classList.remove("with-thread");
      return;
    }
    pane.hidden = false;
    document.body.classList.add("with-thread");
    const items = [{ kind: "message", message: parent }];
    for (const message of snap.messages) if (message.thread_ts === parent.ts) items.push({ kind: "message", message });
    for (const message of snap.ephemerals) {
      if (message.thread_ts === parent.ts && !state.dismissed.has(state.me + ":" + message.ts)) items.push({ kind: "ephemeral", message });
    }
    items.sort((a, b) => compareTs(a.message.ts, b.message.ts));
    keyed($("thread-messages"), state.rendered.thread, items, "thread", null);
  }

  Object.assign(window.Demo, { renderChannel, renderThread });
})();
