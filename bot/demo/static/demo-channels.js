// The release channels, each one product's: the sidebar's list of them (a channel with
// messages not yet seen reads bold), the one shown (its header, the composer's
// placeholder, the page's title; kept in the address as ?channel=NAME), and the intro at
// the top of each, which says what product the channel routes to.
"use strict";

(function () {
  const { el } = window.Dom;
  const { $, state, here } = window.Demo;

  function latest(channelId) {
    let ts = "";
    for (const m of state.snap.messages) {
      if (m.channel === channelId && Number(m.ts) > Number(ts || 0)) ts = m.ts;
    }
    return ts;
  }

  function pickChannel(channelId) {
    state.channel = channelId;
    state.threadTs = null;
    state.threadClosed = false;
    const url = new URL(window.location.href);
    const channel = here();
    if (channel === state.snap.channels[0]) url.searchParams.delete("channel");
    else url.searchParams.set("channel", channel.name);
    window.history.replaceState(window.history.state, "", url);
  }

  // The channel asked for in the address (by name), else the first; and nothing unread.
  function firstChannel() {
    const asked = new URLSearchParams(window.location.search).get("channel");
    const found = state.snap.channels.find((c) => c.name === asked || c.id === asked);
    state.channel = (found || state.snap.channels[0]).id;
    state.seen = {};
    for (const channel of state.snap.channels) state.seen[channel.id] = latest(channel.id);
  }

  function channelButton(channel) {
    const button = el("button", "channel-link");
    button.type = "button";
    button.dataset.channel = channel.id;
    const name = el("span", "channel-name");
    name.append(el("span", "hash", "#"), document.createTextNode(" " + channel.name));
    button.append(name, el("span", "channel-product", channel.title));
    button.title = `#${channel.name}: releases of ${channel.title}`;
    button.addEventListener("click", () => {
      pickChannel(channel.id);
      window.Demo.go("channel");
    });
    return button;
  }

  function renderChannels() {
    if (!state.channel) firstChannel();
    const list = $("channel-list");
    if (!list.childElementCount) for (const channel of state.snap.channels) list.append(channelButton(channel));
    const shown = here();
    const inChannel = state.place === "channel";
    if (inChannel) state.seen[shown.id] = latest(shown.id);
    for (const button of list.children) {
      const id = button.dataset.channel;
      const active = inChannel && id === shown.id;
      button.classList.toggle("active", active);
      button.classList.toggle("unread", !active && latest(id) !== (state.seen[id] || ""));
    }
    $("channel-name").textContent = shown.name;
    $("channel-topic").textContent = `Production-readiness sign-off for ${shown.title}`;
    $("thread-channel").textContent = "# " + shown.name;
    const composer = $("composer");
    composer.placeholder = `Message #${shown.name}. Try /readiness new ${shown.example}`;
    composer.setAttribute("aria-label", `Message #${shown.name}`);
    document.title = `#${shown.name} · Readiness demo`;
  }

  // --- the intro at the top of a channel --------------------------------------------

  // A line of an intro: text, [tag, text], or a channel to go to ({ go: channel }).
  function line(parts) {
    const li = el("li");
    for (const part of parts) {
      if (typeof part === "string") li.append(document.createTextNode(part));
      else if (part.go) li.append(goTo(part.go));
      else li.append(el(part[0], "", part[1]));
    }
    return li;
  }

  function goTo(channel) {
    const link = el("button", "link-button channel-go", "#" + channel.name);
    link.type = "button";
    link.addEventListener("click", () => {
      pickChannel(channel.id);
      window.Demo.go("channel");
    });
    return link;
  }

  function possessive(name) {
    return name + (name.endsWith("s") ? "'" : "'s");
  }

  // Who signs differently here than in every product: those who hold a role only here,
  // then those who hold one elsewhere but none here.
  function ownApprovers(channel) {
    const channels = state.snap.channels;
    const only = [];
    const not = [];
    for (const user of state.snap.users) {
      const roles = user.roles || {};
      const held = channels.filter((c) => roles[c.product]);
      if (roles[channel.product] && held.length < channels.length) {
        only.push(`${user.real_name} signs here as ${roles[channel.product]}`);
      } else if (held.length && !roles[channel.product]) {
        const elsewhere = held.map((c) => `${possessive(c.title)} ${roles[c.product]}`).join(", ");
        not.push(`${user.real_name} (${elsewhere}) holds no role here`);
      }
    }
    return [...only, ...not];
  }

  function firstSteps(channel) {
    return [
      ["Type ", ["code", "/readiness new " + channel.example], " below. The release card appears and its checks run against the demo service."],
      ["Switch ", ["strong", "You are"], " to each role in turn: open ", ["strong", "Checklist"], " to tick that role's manual items, then ", ["strong", "Sign as …"], "."],
      ["As the CTO, give the final approval with the deployment window, team and rollback plan: the card reads ", ["em", "Approved for production deployment"], "."],
      [["strong", "Mark deployed"], " and watch the post-deployment phases post their digests (the first after a minute)."],
      ["Break a part of the service on the left: a check fails, an approved release is suspended, a deployed one alerts."],
    ];
  }

  function otherSteps(channel, first) {
    const own = ownApprovers(channel);
    return [
      ["Type ", ["code", "/readiness new " + channel.example], ` below: the card is a ${channel.title} release, with its ${channel.sections} sections of the checklist (`, { go: first }, ` has ${first.sections}).`],
      own.length ? [own.join("; ") + ": each product has its own approvers."] : ["The same people sign here as in ", { go: first }, "."],
      [["code", "/readiness list"], ` here lists ${possessive(channel.title)} releases; `, ["code", "/readiness list all"], " every product's."],
    ];
  }

  const intros = new Map();
  function introNode() {
    const channel = here();
    if (intros.has(channel.id)) return intros.get(channel.id);
    const first = state.snap.channels[0];
    const intro = el("div", "intro");
    intro.dataset.channel = channel.id;
    intro.append(el("h2", "", `This is the very beginning of #${channel.name}`));
    const routed = el("p", "intro-product");
    routed.append("Readiness routes this channel to the product ", el("strong", "", channel.title),
      " (", el("code", "", channel.product + ".yaml"), `): ${channel.sections} sections, ${channel.items} items.`);
    intro.append(routed);
    const steps = el("ol");
    const lines = channel === first ? firstSteps(channel) : otherSteps(channel, first);
    for (const parts of lines) steps.append(line(parts));
    if (channel === first) {
      for (const other of state.snap.channels.slice(1)) {
        steps.append(line([{ go: other }, ` is ${possessive(other.title)} channel: a release opened there gets ${possessive(other.title)} checklist (${other.sections} sections) and approvers.`]));
      }
    }
    intro.append(steps);
    intros.set(channel.id, intro);
    return intro;
  }

  Object.assign(window.Demo, { renderChannels, pickChannel, introNode });
})();
