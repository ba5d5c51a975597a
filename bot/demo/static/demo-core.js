// The demo page: the release channels (each one product's) as one person sees them, live.
//
// Everything shown comes from the demo server's snapshots (server-sent events on
// /demo/events?user=…): every channel's messages and threads, this person's ephemeral
// messages and open modal; the page shows one channel at a time. Everything done here (a command, a click, a modal submitted
// or closed, a part of the target broken) is POSTed as JSON to /demo/…, where it becomes
// the request Slack would send the bot, signed as Slack signs it.
//
// This file holds what the page's scripts share (window.Demo): the page's state, the
// channel shown, and talking to the demo server. demo-channels.js, demo-messages.js, demo-modal.js and demo-composer.js add
// their parts to window.Demo; demo.js puts the page together and starts it.
"use strict";

(function () {
  const { el } = window.Dom;
  const $ = (id) => document.getElementById(id);

  const state = {
    me: "UENG",
    snap: null,
    source: null,
    place: "channel",
    channel: null, // the id of the channel shown (of snap.channels); the first until picked
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

  // The channel shown: its id, name and the product that claims it.
  function here() {
    const channels = state.snap.channels;
    return channels.find((c) => c.id === state.channel) || channels[0];
  }

  // What blocks and mrkdwn are drawn with. A person's title in a user picker is their role
  // in the product of the channel shown (they may hold another, or none, in the other).
  function context(act) {
    const snap = state.snap;
    const product = here().product;
    const users = {};
    for (const user of snap.users) users[user.id] = user;
    const userList = snap.users.map((u) => Object.assign({}, u, {
      title: u.title === "app" ? "app" : (u.roles || {})[product] || "",
    }));
    const channels = {};
    for (const channel of snap.channels) channels[channel.id] = channel.name;
    return { users, userList, channels, act };
  }

  window.Demo = { $, state, post, context, here };
})();
