// The demo page: the release channel as one person sees it, live.
//
// Everything shown comes from the demo server's snapshots (server-sent events on
// /demo/events?user=…): the channel's messages and threads, this person's ephemeral
// messages and open modal. Everything done here (a command, a click, a modal submitted
// or closed, a part of the target broken) is POSTed as JSON to /demo/…, where it becomes
// the request Slack would send the bot, signed as Slack signs it.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const REQUIRED = "Please complete this required field.";
  const COMMAND = "/readiness";
  const PART_NAMES = {
    app: "Application", db: "Database", cache: "Cache", nats: "NATS",
    headers: "Security headers", alerts: "Critical alert", ci: "CI runs",
    cluster: "Kubernetes node", coverage: "Test coverage",
  };
  const COMMANDS = [
    ["new LUMINES 1.0.0", "open a release: the card appears, the checks run"],
    ["status", "where the newest release stands (privately)"],
    ["list", "the open releases"],
    ["check", "run the automated checks again"],
    ["deployed", "mark the approved release deployed"],
    ["cancel NAME", "cancel a release"],
    ["help", "all of it"],
  ];

  const state = {
    me: "UENG",
    snap: null,
    source: null,
    place: "channel",
    homeKey: null,
    threadTs: null,
    threadClosed: false,
    dismissed: new Set(),
    modalKey: null,
    modalInputs: null,
    clientErrors: {},
    history: [],
    historyAt: 0,
    rendered: { messages: new Map(), thread: new Map() },
  };

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

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

  // --- talking to the demo server ---------------------------------------------------

  let noticeTimer = null;
  function notice(text, kind) {
    const hint = $("composer-hint");
    hint.dataset.mode = "notice";
    hint.replaceChildren(el("span", "notice " + (kind || "error"), text));
    hint.hidden = false;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { hint.hidden = true; }, 8000);
  }

  async function post(path, body) {
    let data = {};
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ user: state.me }, body)),
      });
      data = await response.json().catch(() => ({}));
      if (!response.ok && data.ok === undefined) data.ok = false;
    } catch (error) {
      data = { ok: false, error: "The demo server is not answering." };
    }
    if (data.ok === false && data.error) notice(data.error);
    return data;
  }

  function connect() {
    if (state.source) state.source.close();
    const source = new EventSource("/demo/events?user=" + encodeURIComponent(state.me));
    state.source = source;
    source.addEventListener("state", (event) => {
      $("connection").hidden = true;
      apply(JSON.parse(event.data));
    });
    source.addEventListener("open", () => { $("connection").hidden = true; });
    source.addEventListener("error", () => { $("connection").hidden = false; });
  }

  function context(act) {
    const snap = state.snap;
    const users = {};
    for (const user of snap.users) users[user.id] = user;
    return {
      users, userList: snap.users, channels: { [snap.channel.id]: snap.channel.name }, act,
    };
  }

  // --- the whole page from one snapshot ---------------------------------------------

  function apply(snap) {
    if (snap.me !== state.me) return; // a late event from before a switch
    state.snap = snap;
    renderUsers();
    renderSwitches();
    renderPlace();
    renderChannel();
    renderThread();
    renderHome();
    renderModal();
  }

  // --- where this person is: the channel, or the app's Home tab ---------------------

  function go(place) {
    state.place = place;
    state.homeKey = null;
    if (place === "home") post("/demo/home", {});
    renderPlace();
    renderThread();
    renderHome();
  }

  function renderPlace() {
    const home = state.place === "home";
    $("channel").hidden = home;
    $("home").hidden = !home;
    $("channel-link").classList.toggle("active", !home);
    $("home-link").classList.toggle("active", home);
  }

  function renderHome() {
    const view = state.snap.home;
    const body = $("home-body");
    if (state.place !== "home") return;
    const key = view ? view.id + ":" + view.hash : "none";
    if (key === state.homeKey) return;
    state.homeKey = key;
    if (!view) {
      body.replaceChildren(el("p", "home-empty", "Opening the Home tab…"));
      return;
    }
    const act = (element, block, value, control) => {
      if (control) control.classList.add("pending");
      post("/demo/click", {
        where: "view", view_id: view.id, action_id: element.action_id, value: value ?? null, values: {},
      }).finally(() => { if (control) control.classList.remove("pending"); });
    };
    body.replaceChildren(window.Blocks.render(view.blocks, context(act)));
  }

  function renderUsers() {
    const select = $("user-select");
    if (!select.options.length) {
      for (const user of state.snap.users) {
        if (user.title === "app" || !user.title) continue;
        const option = el("option", "", `${user.real_name} · ${user.title}`);
        option.value = user.id;
        select.append(option);
      }
    }
    select.value = state.me;
    const me = state.snap.users.find((u) => u.id === state.me);
    $("user-note").textContent = !me ? ""
      : me.title === "no role" ? `${me.real_name} holds no role: signing is refused.`
        : `${me.real_name} signs as ${me.title}.`;
  }

  function renderSwitches() {
    const box = $("switches");
    if (!box.childElementCount) {
      for (const part of state.snap.target) {
        const label = el("label", "switch");
        label.id = "switch-" + part.id;
        const input = el("input");
        input.type = "checkbox";
        input.dataset.part = part.id;
        input.addEventListener("change", async () => {
          await post("/demo/break", { part: part.id, broken: input.checked });
        });
        const text = el("span", "switch-text");
        text.append(el("strong", "", "Break " + (PART_NAMES[part.id] || part.id)));
        text.append(el("small", "", part.effect));
        label.append(input, el("span", "track"), text);
        box.append(label);
      }
    }
    for (const part of state.snap.target) {
      const label = $("switch-" + part.id);
      if (!label) continue;
      label.querySelector("input").checked = part.broken;
      label.classList.toggle("broken", part.broken);
    }
  }

  // --- messages ---------------------------------------------------------------------

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
        where: item.kind, ts: m.ts, action_id: element.action_id, value: value ?? null,
      }).finally(() => { if (control) control.classList.remove("pending"); });
    };
    const content = el("div", "message-content");
    if (m.blocks && m.blocks.length) content.append(window.Blocks.render(m.blocks, context(act)));
    else content.append(window.Mrkdwn.render(m.text, context()));
    body.append(content);
    for (const name of m.files || []) body.append(el("div", "file", "📎 " + name));
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
        const fresh = messageNode(item, where);
        node.className = fresh.className;
        node.replaceChildren(...fresh.childNodes);
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

  let intro = null;
  function introNode() {
    if (intro) return intro;
    intro = el("div", "intro");
    intro.append(el("h2", "", "This is the very beginning of #releases"));
    const steps = el("ol");
    const lines = [
      ["Type ", ["code", "/readiness new LUMINES 1.0.0"], " below. The release card appears and its checks run against the demo LUMINES service."],
      ["Switch ", ["strong", "You are"], " to each role in turn: open ", ["strong", "Checklist"], " to tick that role's manual items, then ", ["strong", "Sign as …"], "."],
      ["As the CTO, give the final approval with the deployment window, team and rollback plan: the card reads ", ["em", "Approved for production deployment"], "."],
      [["strong", "Mark deployed"], " and watch the post-deployment phases post their digests (the first after a minute)."],
      ["Break a part of the service on the left: a check fails, an approved release is suspended, a deployed one alerts."],
    ];
    for (const parts of lines) {
      const li = el("li");
      for (const part of parts) li.append(typeof part === "string" ? document.createTextNode(part) : el(part[0], "", part[1]));
      steps.append(li);
    }
    intro.append(steps);
    return intro;
  }

  function renderChannel() {
    const snap = state.snap;
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
    const snap = state.snap;
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

  // --- modals -----------------------------------------------------------------------

  function values() {
    const out = {};
    for (const [blockId, input] of state.modalInputs || []) out[blockId] = input.get();
    return out;
  }

  function showErrors(errors) {
    const view = state.snap && state.snap.view;
    const shown = Object.assign({}, (view && view.errors) || {}, state.clientErrors, errors || {});
    for (const [blockId, input] of state.modalInputs || []) {
      const message = shown[blockId] || "";
      input.error.textContent = message;
      input.error.hidden = !message;
      input.error.parentElement.classList.toggle("has-error", Boolean(message));
    }
    const general = document.querySelector("#modal-layer .modal-error");
    if (general) {
      general.textContent = shown[""] || "";
      general.hidden = !shown[""];
    }
  }

  function buildModal(view) {
    const layer = $("modal-layer");
    const inputs = new Map();
    state.modalInputs = inputs;
    state.clientErrors = {};
    const box = el("div", "dialog modal");
    box.dataset.viewId = view.id;
    box.dataset.callbackId = view.callback_id;
    box.setAttribute("role", "dialog");
    box.setAttribute("aria-modal", "true");
    const head = el("div", "modal-head");
    const title = el("h2", "modal-title");
    title.append(window.Mrkdwn.plain(view.title));
    const x = el("button", "icon modal-x", "×");
    x.type = "button";
    x.setAttribute("aria-label", "Close");
    head.append(title, x);
    const act = (element, block, value) => post("/demo/click", {
      where: "view", view_id: view.id, action_id: element.action_id, value: value ?? null, values: values(),
    });
    const body = el("div", "modal-body");
    body.append(window.Blocks.render(view.blocks, Object.assign(context(act), { inputs })));
    const general = el("div", "modal-error");
    general.setAttribute("role", "alert");
    general.hidden = true;
    const foot = el("div", "modal-foot");
    const cancel = el("button", "btn cancel", view.close || "Cancel");
    cancel.type = "button";
    foot.append(cancel);
    const close = () => post("/demo/close", { view_id: view.id });
    cancel.addEventListener("click", close);
    x.addEventListener("click", close);
    if (view.submit) {
      const submit = el("button", "btn primary submit", view.submit);
      submit.type = "button";
      submit.addEventListener("click", async () => {
        const picked = values();
        const missing = {};
        for (const [blockId, input] of inputs) {
          const value = picked[blockId];
          if (!input.optional && (value === null || value === "" || (Array.isArray(value) && !value.length))) {
            missing[blockId] = REQUIRED;
          }
        }
        state.clientErrors = missing;
        showErrors({});
        if (Object.keys(missing).length) return;
        submit.disabled = true;
        submit.classList.add("pending");
        const answer = await post("/demo/submit", { view_id: view.id, values: picked });
        submit.disabled = false;
        submit.classList.remove("pending");
        if (answer.errors) {
          state.clientErrors = answer.errors;
          showErrors({});
        }
      });
      foot.append(submit);
    }
    box.append(head, general, body, foot);
    layer.replaceChildren(box);
    const first = box.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  function renderModal() {
    const view = state.snap.view;
    const layer = $("modal-layer");
    if (!view) {
      layer.hidden = true;
      layer.replaceChildren();
      state.modalKey = null;
      state.modalInputs = null;
      return;
    }
    const key = view.id + ":" + view.hash;
    if (key !== state.modalKey) {
      buildModal(view);
      state.modalKey = key;
    }
    layer.hidden = false;
    showErrors({});
  }

  document.addEventListener("keydown", (event) => {
    const view = state.snap && state.snap.view;
    if (event.key === "Escape" && view && $("confirm-layer").hidden) post("/demo/close", { view_id: view.id });
  });

  // --- the composer and the user switcher -------------------------------------------

  function showCommands(text) {
    const hint = $("composer-hint");
    if (!text.startsWith("/")) {
      if (hint.dataset.mode === "commands") hint.hidden = true;
      return;
    }
    // "/rea" or "/readiness st": the commands that can still be meant, all while unsure.
    const typed = text.startsWith(COMMAND + " ") ? text.slice(COMMAND.length + 1) : "";
    const shown = COMMANDS.filter(([args]) => args.startsWith(typed.split(" ")[0]));
    const meant = COMMAND.startsWith(text) || text.startsWith(COMMAND + " ");
    if (!meant || !shown.length || typed.includes(" ")) {
      hint.hidden = true;
      return;
    }
    hint.dataset.mode = "commands";
    const list = el("div", "commands");
    for (const [args, what] of shown) {
      const row = el("button", "command");
      row.type = "button";
      row.append(el("code", "", "/readiness " + args), el("span", "", what));
      row.addEventListener("click", () => {
        const input = $("composer");
        input.value = "/readiness " + args;
        input.focus();
      });
      list.append(row);
    }
    hint.replaceChildren(list);
    hint.hidden = false;
  }

  async function send(event) {
    event.preventDefault();
    const input = $("composer");
    const text = input.value.trim();
    if (!text) return;
    state.history.push(text);
    state.historyAt = state.history.length;
    input.value = "";
    $("composer-hint").hidden = true;
    const answer = await post("/demo/command", { text });
    if (answer.ok === false && !input.value) input.value = text;
  }

  function switchUser(user) {
    if (user === state.me) return;
    state.me = user;
    state.modalKey = null;
    state.modalInputs = null;
    state.homeKey = null;
    $("modal-layer").hidden = true;
    connect();
    if (state.place === "home") post("/demo/home", {});
  }

  function start() {
    $("composer-form").addEventListener("submit", send);
    $("composer").addEventListener("input", (event) => showCommands(event.target.value));
    $("composer").addEventListener("keydown", (event) => {
      if (event.key === "ArrowUp" && state.historyAt > 0) {
        state.historyAt -= 1;
        event.target.value = state.history[state.historyAt];
        event.preventDefault();
      } else if (event.key === "ArrowDown" && state.historyAt < state.history.length) {
        state.historyAt += 1;
        event.target.value = state.history[state.historyAt] || "";
        event.preventDefault();
      }
    });
    $("user-select").addEventListener("change", (event) => switchUser(event.target.value));
    $("channel-link").addEventListener("click", () => go("channel"));
    $("home-link").addEventListener("click", () => go("home"));
    $("thread-close").addEventListener("click", () => {
      state.threadClosed = true;
      renderThread();
    });
    connect();
    $("composer").focus();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
