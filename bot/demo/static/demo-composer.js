// The composer: a line typed (a slash command or a message) in the channel shown, the
// commands it can still be, and the lines sent before (arrow up and down).
"use strict";

(function () {
  const { el } = window.Dom;
  const { $, state, post, here } = window.Demo;

  const COMMAND = "/readiness";
  // Every verb of the bot's /readiness, in the order of its help (HELP in
  // bot/slack/blocks/messages.py, USAGE in bot/slack/manifest.py; tests/demo checks).
  const COMMANDS = [
    ["new LUMINES 1.0.0", "open a release of this channel's product: the card appears, the checks run"],
    ["status", "where the newest release stands (privately)"],
    ["list", "the open releases of this channel's product (list all: every product's)"],
    ["check", "run the automated checks again"],
    ["deployed", "mark the approved release deployed"],
    ["export", "upload the filled-in sign-off document to the card's thread"],
    ["cancel NAME", "cancel a release"],
    ["freezes", "the change freezes now and next (no deploys during one)"],
    ["waive ITEM_ID for=2d REASON", "ask to count a failing item as passing for a while"],
    ["help", "all of it"],
  ];

  function showCommands(text) {
    const hint = $("composer-hint");
    if (!text.startsWith("/")) {
      if (hint.dataset.mode === "commands") hint.hidden = true;
      return;
    }
    // "/rea" or "/readiness st": the commands that can still be meant, all while unsure.
    const typed = text.startsWith(COMMAND + " ") ? text.slice(COMMAND.length + 1) : "";
    // A release is suggested by the name the channel's product goes by.
    const commands = COMMANDS.map(([args, what]) => [args.startsWith("new ") ? "new " + here().example : args, what]);
    const shown = commands.filter(([args]) => args.startsWith(typed.split(" ")[0]));
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
    const answer = await post("/demo/command", { text, channel: here().id });
    if (answer.ok === false && !input.value) input.value = text;
  }

  function startComposer() {
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
  }

  Object.assign(window.Demo, { startComposer });
})();
