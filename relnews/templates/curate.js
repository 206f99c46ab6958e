// The curation page. Everything read from the archive is put in the page as text
// (textContent, never innerHTML), so no title or URL can run as markup; the page's words
// come from the server in the site's language (settings.words), dates already written.
"use strict";
const $ = (id) => document.getElementById(id);
const settings = JSON.parse($("settings").textContent);
const words = settings.words;
let current = null;

// A word of the page with its {placeholders} filled in.
function t(key, values) {
  let text = words[key] || key;
  for (const [name, value] of Object.entries(values || {}))
    text = text.split("{" + name + "}").join(String(value));
  return text;
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function safeHref(url) {
  return /^https?:\/\/[^\s]+$/i.test(url) ? url : null;
}

function link(url, text) {
  const href = safeHref(url);
  const node = element(href ? "a" : "span", text || url);
  if (href) { node.href = href; node.rel = "noopener noreferrer"; }
  return node;
}

function button(label, action, onClick, className) {
  const node = element("button", label, className);
  node.type = "button";
  if (action) node.dataset.action = action;
  node.addEventListener("click", onClick);
  return node;
}

// A message beside what was pressed: in the row or the form it belongs to.
function sayAt(place, text) {
  if (!place) return;
  let slot = place.querySelector(":scope > .said");
  if (!slot) { slot = element("span", null, "said"); slot.setAttribute("role", "status"); place.append(slot); }
  slot.textContent = text || "";
}

async function call(path, options) {
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (error) { data = {error: response.statusText}; }
  if (!response.ok) throw new Error(data && data.error ? data.error : response.statusText);
  return data;
}

function dated(entry) {
  return entry.date ? t(entry.date_kind || "published", {date: entry.date}) : null;
}

function meta(facts) {
  return element("span", facts.filter(Boolean).join(" · "), "meta");
}

// -- where the page is: the queues, or one article (#article=URL) -----------------------

function open(url) {
  const hash = "#article=" + encodeURIComponent(url);
  if (location.hash === hash) show(url); else location.hash = hash;
}

function route() {
  const match = location.hash.match(/^#article=(.+)$/);
  if (match) show(decodeURIComponent(match[1]));
  else showQueues();
}

function openLine(entry, extra, withUrl) {
  const item = element("li");
  item.dataset.url = entry.url;
  const opener = button(entry.title || entry.url, null, () => open(entry.url), "open");
  opener.dataset.url = entry.url;
  item.append(opener, " ", meta([...(extra || []), dated(entry), withUrl ? entry.url : null]));
  return item;
}

async function showQueues() {
  current = null;
  $("article").hidden = true;
  $("queues").hidden = false;
  try {
    const queues = await call("api/queues");
    for (const name of ["newest", "differ", "no_block"]) {
      const list = $("queue-" + name);
      list.replaceChildren();
      for (const entry of queues[name]) {
        const extra = name === "differ" ? [t("in_common", {shared: entry.shared, block: entry.block})] : [];
        list.append(openLine(entry, extra));
      }
      if (!queues[name].length) list.append(element("li", t("queue_empty"), "meta"));
    }
  } catch (error) { sayAt($("search"), error.message); }
}

async function search(event) {
  event.preventDefault();
  const form = $("search");
  const query = $("query").value.trim();
  const list = $("results");
  list.replaceChildren();
  sayAt(form, "");
  if (!query) return;
  try {
    const found = await call("api/search?q=" + encodeURIComponent(query));
    if (!found.length) sayAt(form, t("nothing_found", {query}));
    for (const hit of found) list.append(openLine(hit, [], true));
  } catch (error) { sayAt(form, error.message); }
}

// -- one article ------------------------------------------------------------------------

// `then`: where to say what a change did once the view is drawn again ({list, url,
// index, text} for a row, {form, text} for a form).
async function show(url, then) {
  try {
    const view = await call("api/article?k=10&url=" + encodeURIComponent(url));
    current = view.url;
    $("results").replaceChildren();
    $("queues").hidden = true;
    $("article").hidden = false;
    $("article-title").textContent = view.title;
    const own = $("article-url");
    own.textContent = view.url;
    if (safeHref(view.url)) own.href = view.url; else own.removeAttribute("href");
    $("article-date").textContent = dated(view) || "";
    drawEditors(view);
    drawSuggestions(view);
    drawRules(view);
    if (!then) {
      const pins = $("pin-results");
      if (pins) pins.replaceChildren();
      window.scrollTo(0, 0);
    }
    if (then) placeMessage(then);
  } catch (error) {
    if (then && then.here) sayAt(then.here, error.message);
    else sayAt($("search"), error.message);
  }
}

function drawEditors(view) {
  const block = view.editors;
  $("editors-age").textContent = block.archived
    ? t("archived", {date: block.archived, age: block.age || ""})
    : t("no_block");
  const list = $("editors");
  list.replaceChildren();
  for (const entry of block.links) {
    const item = element("li");
    item.dataset.url = entry.url;
    item.append(link(entry.url, entry.title), " ",
      meta([entry.displayed_age, dated(entry), entry.archived ? null : t("not_archived")]));
    list.append(item);
  }
}

function drawSuggestions(view) {
  const list = $("suggestions");
  list.replaceChildren();
  view.relnews.forEach((entry, index) => {
    const item = element("li", null, entry.pinned ? "pinned suggestion" : "suggestion");
    item.dataset.url = entry.url;
    item.append(link(entry.url, entry.title), " ", meta([
      entry.pinned ? t("pinned") : null,
      entry.score === null ? null : t("score", {score: entry.score.toFixed(3)}),
      dated(entry),
      entry.in_editors_block ? t("also_editors") : null,
    ]));
    if (entry.shared_terms.length)
      item.append(element("div", t("shared_terms", {terms: entry.shared_terms.join(", ")}), "terms"));
    if (settings.editor) {
      const place = {list: "suggestions", url: entry.url, title: entry.title, index, here: item};
      const actions = element("div", null, "actions");
      actions.append(entry.pinned
        ? button(t("unpin"), "unpin", () => change("unpin", view.url, entry.url, place))
        : button(t("pin"), "pin", () => change("pin", view.url, entry.url, place)));
      actions.append(button(t("block_here"), "block", () => change("block", view.url, entry.url, place)));
      actions.append(button(t("block_everywhere"), "block-everywhere",
        () => confirmEverywhere(item, entry, place)));
      item.append(actions);
    }
    list.append(item);
  });
}

// A block for every list is asked again, in the page, saying how far it reaches.
function confirmEverywhere(item, entry, place) {
  if (item.querySelector(".confirm")) return;
  sayAt(item, "");
  const box = element("div", null, "confirm");
  box.setAttribute("role", "alertdialog");
  box.append(element("p", t("confirm_everywhere", {title: entry.title || entry.url})),
    element("p", t("confirm_lists", {lists: entry.lists}), "meta"));
  const yes = button(t("block_everywhere"), "confirm-block", () => change("block", "*", entry.url, place));
  const no = button(t("cancel"), "cancel", () => { box.remove(); sayAt(item, t("cancelled")); });
  box.append(yes, no);
  item.append(box);
  no.focus();
}

function drawRules(view) {
  const list = $("rules");
  list.replaceChildren();
  const lines = [
    ...view.pins.map((rule) => ({...rule, label: t("rule_pin"), remove: ["unpin", view.url, rule.url]})),
    ...view.blocked_here.map((rule) => ({...rule, label: t("rule_block_here"), remove: ["unblock", view.url, rule.url]})),
    ...view.blocked_everywhere.map((rule) => ({...rule, label: t("rule_block_everywhere"), remove: ["unblock", "*", rule.url]})),
    ...view.scoped_rules.map((rule) => ({
      ...rule, url: rule.source + " " + rule.target,
      label: t("rule_scoped", {target: rule.target, source: rule.source}),
      remove: ["unblock", rule.source, rule.target],
    })),
  ];
  lines.forEach((line, index) => {
    const item = element("li", line.label);
    item.dataset.url = line.url;
    if (line.title !== undefined) item.append(" ", link(line.url, line.title || line.url));
    if (line.note) item.append(" ", element("span", "— " + line.note, "note"));
    if (line.shadowed) item.append(element("div", t("shadowed"), "warning"));
    if (settings.editor) {
      const place = {list: "rules", url: line.url, title: line.title || line.label, index, here: item};
      item.append(" ", button(t("remove"), "remove", () => change(...line.remove, place)));
    }
    list.append(item);
  });
  if (!lines.length) list.append(element("li", t("no_rule"), "meta"));
}

// Once the view is drawn again: the message in the row of what was changed, or where
// that row was when the change took it away, or in the form that was sent.
function placeMessage(then) {
  if (then.form) { sayAt(then.form, then.text); return; }
  const list = $(then.list);
  const row = [...list.children].find((item) => item.dataset.url === then.url);
  if (row) { sayAt(row, then.text); return; }
  // the row is gone (blocked, rule removed): its title struck through, in its place
  const ghost = element("li", null, "gone");
  ghost.append(element("s", then.title || then.url, "meta"), " ");
  sayAt(ghost, then.text);
  list.insertBefore(ghost, list.children[then.index] || null);
}

async function change(action, source, target, place) {
  const headers = {"Content-Type": "application/json"};
  if (settings.tokenNeeded) headers["Authorization"] = "Bearer " + $("token").value;
  const noteBox = $("note");
  const adding = action === "pin" || action === "block";
  const note = adding && noteBox ? noteBox.value.trim() : "";
  try {
    const done = await call("api/rules", {
      method: "POST", headers, body: JSON.stringify({action, source, target, note}),
    });
    if (note) noteBox.value = "";
    const text = done.shadowed ? t("shadowed") : t("done_" + action) + " " + (done.title || done.target);
    if (current) await show(current, {...place, text});
  } catch (error) { sayAt(place.here || place.form, error.message); }
}

async function pinSearch(event) {
  event.preventDefault();
  const form = $("pin-search");
  const query = $("pin-query").value.trim();
  const list = $("pin-results");
  list.replaceChildren();
  sayAt(form, "");
  if (!query || !current) return;
  try {
    const found = (await call("api/search?q=" + encodeURIComponent(query)))
      .filter((hit) => hit.url !== current);
    if (!found.length) sayAt(form, t("nothing_found", {query}));
    for (const hit of found) {
      const item = element("li");
      item.dataset.url = hit.url;
      item.append(button(t("pin"), "pin", () => change("pin", current, hit.url, {list: "pin-results", url: hit.url, index: 0, here: item})), " ",
        link(hit.url, hit.title), " ", meta([dated(hit)]));
      list.append(item);
    }
  } catch (error) { sayAt(form, error.message); }
}

$("search").addEventListener("submit", search);
for (const back of document.querySelectorAll("a.back, #home"))
  back.addEventListener("click", (event) => {
    event.preventDefault();
    if (location.hash) location.hash = ""; else showQueues();
  });
const pinForm = $("pin-search");
if (pinForm) pinForm.addEventListener("submit", pinSearch);
const scoped = $("scoped");
if (scoped) scoped.addEventListener("submit", (event) => {
  event.preventDefault();
  const target = $("scope-target").value.trim();
  const source = $("scope-source").value.trim() || "*";
  if (target) change("block", source, target, {form: scoped, here: scoped});
});
window.addEventListener("hashchange", route);
route();
