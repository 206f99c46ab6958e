// The curation page: everything read from the archive is put in the page as text
// (textContent, never innerHTML), so no title or URL can run as markup.
"use strict";
const settings = JSON.parse(document.getElementById("settings").textContent);
const $ = (id) => document.getElementById(id);
let current = null;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function safeHref(url) {
  return /^https?:\/\//i.test(url) ? url : null;
}

function link(url, text) {
  const href = safeHref(url);
  const node = element(href ? "a" : "span", text || url);
  if (href) { node.href = href; node.rel = "noopener"; }
  return node;
}

function say(text) { $("status").textContent = text || ""; }

async function call(path, options) {
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (error) { data = {error: response.statusText}; }
  if (!response.ok) throw new Error(data && data.error ? data.error : response.statusText);
  return data;
}

async function search(event) {
  event.preventDefault();
  const query = $("query").value.trim();
  const list = $("results");
  list.replaceChildren();
  if (!query) return;
  try {
    const found = await call("api/search?q=" + encodeURIComponent(query));
    if (!found.length) say("No article found for " + query);
    else say("");
    for (const hit of found) {
      const item = element("li");
      const open = element("button", hit.title || hit.url, "open");
      open.type = "button";
      open.dataset.url = hit.url;
      open.addEventListener("click", () => show(hit.url));
      item.append(open, " ", element("span", [hit.published, hit.url].filter(Boolean).join(" · "), "meta"));
      list.append(item);
    }
  } catch (error) { say(error.message); }
}

function ruleButton(action, source, target, label) {
  const button = element("button", label);
  button.type = "button";
  button.dataset.action = action;
  button.dataset.target = target;
  button.addEventListener("click", () => change(action, source, target));
  return button;
}

async function show(url) {
  try {
    const view = await call("api/article?k=10&url=" + encodeURIComponent(url));
    current = view.url;
    $("results").replaceChildren();
    $("article").hidden = false;
    $("article-title").textContent = view.title;
    const own = $("article-url");
    own.textContent = view.url;
    if (safeHref(view.url)) own.href = view.url;
    $("article-date").textContent = view.published ? "published " + view.published : "";
    const editors = $("editors");
    editors.replaceChildren();
    const block = view.editors;
    $("editors-age").textContent = block.archived_at
      ? "As archived " + block.archived_at + " (" + block.age_days + " days ago)"
      : "No block archived for this page.";
    for (const entry of block.links) {
      const item = element("li");
      item.append(link(entry.url, entry.title));
      const facts = [entry.displayed_age, entry.published, entry.archived ? null : "not archived"];
      item.append(" ", element("span", facts.filter(Boolean).join(" · "), "meta"));
      editors.append(item);
    }
    const ours = $("suggestions");
    ours.replaceChildren();
    for (const entry of view.relnews) {
      const item = element("li", null, entry.pinned ? "pinned suggestion" : "suggestion");
      item.dataset.url = entry.url;
      item.append(link(entry.url, entry.title));
      const facts = [
        entry.pinned ? "pinned" : null,
        entry.score === null ? null : "score " + entry.score.toFixed(3),
        entry.published,
        entry.in_editors_block ? "also in the editors' block" : null,
      ];
      item.append(" ", element("span", facts.filter(Boolean).join(" · "), "meta"));
      if (entry.shared_terms.length)
        item.append(element("div", "shared terms: " + entry.shared_terms.join(", "), "terms"));
      if (settings.editor) {
        const actions = element("div", null, "actions");
        actions.append(entry.pinned
          ? ruleButton("unpin", view.url, entry.url, "Unpin")
          : ruleButton("pin", view.url, entry.url, "Pin"));
        actions.append(ruleButton("block", view.url, entry.url, "Block here"));
        actions.append(ruleButton("block", "*", entry.url, "Block everywhere"));
        item.append(actions);
      }
      ours.append(item);
    }
    const rules = $("rules");
    rules.replaceChildren();
    const lines = [
      ...view.pins.map((target) => ["pin", view.url, target, "pinned: "]),
      ...view.blocked_here.map((target) => ["block", view.url, target, "blocked here: "]),
      ...view.blocked_everywhere.map((target) => ["block", "*", target, "blocked everywhere: "]),
      ...view.scoped_rules.map((rule) => ["block", rule.source, rule.target,
        "never " + rule.target + " for " + rule.source + " "]),
    ];
    for (const [rule, source, target, label] of lines) {
      const item = element("li", label);
      if (label.startsWith("never")) item.textContent = label;
      else item.append(link(target, target));
      if (settings.editor)
        item.append(" ", ruleButton(rule === "pin" ? "unpin" : "unblock", source, target, "Remove"));
      rules.append(item);
    }
    if (!lines.length) rules.append(element("li", "No rule yet."));
  } catch (error) { say(error.message); }
}

async function change(action, source, target) {
  const headers = {"Content-Type": "application/json"};
  if (settings.tokenNeeded) headers["Authorization"] = "Bearer " + $("token").value;
  try {
    const done = await call("api/rules", {
      method: "POST", headers, body: JSON.stringify({action, source, target}),
    });
    say(done.warning || (action + " " + done.status + ": " + done.target));
    if (current) await show(current);
  } catch (error) { say(error.message); }
}

$("search").addEventListener("submit", search);
const scoped = $("scoped");
if (scoped) scoped.addEventListener("submit", (event) => {
  event.preventDefault();
  const target = $("scope-target").value.trim();
  const source = $("scope-source").value.trim() || "*";
  if (target) change("block", source, target);
});
