// The demo page: the release channel as one person sees it, live.
//
// Everything shown comes from the demo server's snapshots (server-sent events on
// /demo/events?user=…): the channel's messages and threads, this person's ephemeral
// messages and open modal. Everything done here (a command, a click, a modal submitted
// or closed, a part of the target broken) is POSTed as JSON to /demo/…, where it becomes
// the request Slack would send the bot, signed as Slack signs it.
//
// This file holds what the page's scripts share (window.Demo): the page's state, and
// talking to the demo server. demo-messages.js, demo-modal.js and demo-composer.js add
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

  function context(act) {
    const snap = state.snap;
    const users = {};
    for (const user of snap.users) users[user.id] = user;
    return {
      users, userList: snap.users, channels: { [snap.channel.id]: snap.channel.name }, act,
    };
  }

  window.Demo = { $, state, post, context };
})();
