// The demo page put together: one snapshot renders the whole page (demo-core.js has the
// state, demo-channels.js the channels, demo-messages.js the channel shown and its
// thread, demo-modal.js the modal, demo-composer.js the composer); here are the sidebar
// (who you are, the target's switches), the Home tab, and the start.
"use strict";

(function () {
  const { el } = window.Dom;
  const { $, state, post, context, here } = window.Demo;
  const { renderChannel, renderChannels, renderThread, renderModal, startComposer, startFiles } = window.Demo;

  const PART_NAMES = {
    app: "Application", db: "Database", cache: "Cache", nats: "NATS",
    headers: "Security headers", alerts: "Critical alert", ci: "CI runs",
    cluster: "Kubernetes node", coverage: "Test coverage",
  };

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

  // --- the whole page from one snapshot ---------------------------------------------

  function apply(snap) {
    if (snap.me !== state.me) return; // a late event from before a switch
    state.snap = snap;
    renderChannels();
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
    if (!state.snap) return;
    renderChannels();
    renderUsers();
    renderChannel();
    renderThread();
    renderHome();
    if (place === "channel") $("messages").scrollTop = $("messages").scrollHeight;
  }

  function renderPlace() {
    const home = state.place === "home";
    $("channel").hidden = home;
    $("home").hidden = !home;
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
      // Grouped by where they hold their role: every product, some, or none.
      const channels = state.snap.channels;
      const groups = new Map();
      for (const user of state.snap.users) {
        if (user.title === "app" || !user.title) continue;
        const held = channels.filter((c) => (user.roles || {})[c.product]);
        const where = !held.length ? "No role"
          : held.length === channels.length ? "In every product"
            : held.map((c) => c.title).join(", ") + " only";
        if (!groups.has(where)) groups.set(where, el("optgroup"));
        groups.get(where).label = where;
        const option = el("option", "", `${user.real_name} · ${user.title}`);
        option.value = user.id;
        groups.get(where).append(option);
      }
      select.append(...groups.values());
    }
    select.value = state.me;
    const me = state.snap.users.find((u) => u.id === state.me);
    $("user-note").textContent = me ? signsAs(me) : "";
  }

  // What they may sign: in a channel, their role in its product; at Home, in every one.
  function signsAs(me) {
    const roles = me.roles || {};
    const channels = state.snap.channels;
    const held = channels.filter((c) => roles[c.product]);
    const channel = here();
    if (!held.length) return `${me.real_name} holds no role: signing is refused.`;
    if (held.length === channels.length && new Set(Object.values(roles)).size === 1) {
      return `${me.real_name} signs as ${roles[channel.product]}.`;
    }
    if (state.place === "home") {
      return `${me.real_name} signs as ` + held.map((c) => `${roles[c.product]} in #${c.name}`).join(" and ") + ".";
    }
    return roles[channel.product] ? `${me.real_name} signs as ${roles[channel.product]} in #${channel.name}.`
      : `${me.real_name} holds no role in ${channel.title}: signing in #${channel.name} is refused.`;
  }

  // A switch flipped here shows as flipped until a snapshot agrees (or the server
  // refuses): a snapshot sent before the flip must not flip it back.
  const flipped = new Map();

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
          flipped.set(part.id, input.checked);
          const answer = await post("/demo/break", { part: part.id, broken: input.checked });
          if (answer.ok === false) {
            flipped.delete(part.id);
            renderSwitches();
          }
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
      if (flipped.get(part.id) === part.broken) flipped.delete(part.id);
      const broken = flipped.has(part.id) ? flipped.get(part.id) : part.broken;
      label.querySelector("input").checked = broken;
      label.classList.toggle("broken", broken);
    }
  }

  // Who you are survives a reload: kept in this browser (localStorage) and in the page's
  // address (?as=U…, so a tab, a bookmark or a link can be one person).
  const REMEMBER = "readiness-demo.me";

  function remembered() {
    const asked = new URLSearchParams(window.location.search).get("as");
    if (asked) return asked;
    try {
      return window.localStorage.getItem(REMEMBER);
    } catch (error) {
      return null; // storage refused (a private window): the default, then
    }
  }

  function remember(user) {
    try {
      if (user) window.localStorage.setItem(REMEMBER, user);
      else window.localStorage.removeItem(REMEMBER);
    } catch (error) { /* not kept: the address still says */ }
    const url = new URL(window.location.href);
    if (user) url.searchParams.set("as", user);
    else url.searchParams.delete("as");
    window.history.replaceState(window.history.state, "", url);
  }

  // The remembered person, if the demo still knows them (else the default, forgotten).
  async function recall() {
    const wanted = remembered();
    if (!wanted || wanted === state.me) return;
    const fallback = state.me;
    state.me = wanted; // at once: what is typed meanwhile is theirs
    let known = true;
    try {
      known = (await fetch("/demo/state?user=" + encodeURIComponent(wanted))).status !== 400;
    } catch (error) {
      known = true; // the server is away: keep them, the reconnect will tell
    }
    if (!known) {
      state.me = fallback;
      remember(null);
    }
  }

  function switchUser(user) {
    if (user === state.me) return;
    state.me = user;
    remember(user);
    state.modalKey = null;
    state.modalInputs = null;
    state.homeKey = null;
    $("modal-layer").hidden = true;
    connect();
    if (state.place === "home") post("/demo/home", {});
  }

  async function start() {
    startComposer();
    startFiles();
    $("user-select").addEventListener("change", (event) => switchUser(event.target.value));
    $("home-link").addEventListener("click", () => go("home"));
    $("thread-close").addEventListener("click", () => {
      state.threadClosed = true;
      renderThread();
    });
    await recall();
    connect();
    $("composer").focus();
  }

  window.Demo.go = go;
  document.addEventListener("DOMContentLoaded", start);
})();
