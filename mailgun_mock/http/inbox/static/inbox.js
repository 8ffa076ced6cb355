// mailgun-mock web inbox: plain JavaScript, no build step, no library.
// Values from mail are only ever put in the page with textContent; HTML comes from the server's
// templates (which escape every value) and is inserted as it came.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const PAGE = 50;

function toast(text, bad) {
  const box = $(".toast");
  box.textContent = text;
  box.classList.toggle("error", !!bad);
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

// Local time as "2026-12-07 14:03:27" (toLocaleString costs ~100 ms on its first call in Chromium).
const pad = (n) => String(n).padStart(2, "0");
function formatDate(seconds) {
  const d = new Date(seconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function formatTimes(root = document) {
  for (const el of $$("time[data-ts]", root)) {
    el.textContent = formatDate(parseFloat(el.dataset.ts));
    el.dateTime = new Date(parseFloat(el.dataset.ts) * 1000).toISOString();
  }
}

async function send(url, { method = "POST", body = null, json = null } = {}) {
  const init = { method, headers: {}, credentials: "same-origin" };
  if (json !== null) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== null) {
    init.body = body;
  }
  const response = await fetch(url, init);
  let data = {};
  try { data = await response.json(); } catch (e) { data = { message: response.statusText }; }
  return { ok: response.ok, status: response.status, data };
}

function say(target, text, bad) {
  const line = target && (target.matches("[data-status]") ? target : $("[data-status]", target));
  if (line) {
    line.textContent = text;
    line.classList.toggle("error", !!bad);
    line.classList.toggle("ok", !bad);
    line.dataset.testid = bad ? "form-error" : "form-ok";
  } else {
    toast(text, bad);
  }
}

// ---------------------------------------------------------------- live updates

let refreshing = null;
let refreshQueued = false;

function scheduleRefresh() {
  if (refreshing) { refreshQueued = true; return; }
  refreshing = setTimeout(async () => {
    try { await refresh(); } finally {
      refreshing = null;
      if (refreshQueued) { refreshQueued = false; scheduleRefresh(); }
    }
  }, 60);
}

async function swapLive(url, root = document) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const el of $$("[data-live]", root)) {
    const next = fresh.querySelector(`[data-live="${CSS.escape(el.dataset.live)}"]`);
    if (next) {
      const open = new Set($$("details[open]", el).map((d, i) => i));
      el.replaceWith(next);
      $$("details", next).forEach((d, i) => { if (open.has(i)) d.open = true; });
      formatTimes(next);
    }
  }
}

async function refresh() {
  if (document.body.dataset.page === "messages") {
    await Inbox.load();
    if (Inbox.openId) await swapLive(`/ui/message/${encodeURIComponent(Inbox.openId)}`, $(".detail-pane"));
  } else {
    await swapLive(location.href);
  }
}

function connectLive() {
  const dot = $(".live");
  const source = new EventSource("/mock/stream");
  source.addEventListener("open", () => { dot.classList.add("on"); dot.title = "live"; });
  source.addEventListener("error", () => { dot.classList.remove("on"); dot.title = "reconnecting"; });
  source.addEventListener("change", scheduleRefresh);
}

// ---------------------------------------------------------------- forms and buttons

function formBody(form) {
  const data = new FormData();
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "file") { for (const f of el.files) data.append(el.name, f, f.name); continue; }
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
    if ("lines" in el.dataset) {
      for (const line of el.value.split("\n")) if (line.trim()) data.append(el.name, line.trim());
      continue;
    }
    data.append(el.name, el.value);
  }
  return data;
}

async function submitForm(form) {
  let url = form.dataset.api;
  const method = form.dataset.method || "POST";
  let result;
  if ("kindSelect" in form.dataset) {
    url = url.replace(/[^/]+$/, encodeURIComponent(form.elements.kind.value));
  }
  if (form.dataset.json) {
    let parsed;
    try { parsed = JSON.parse(form.elements[form.dataset.json].value); } catch (e) {
      say(form, `not valid JSON: ${e.message}`, true); return;
    }
    result = await send(url, { method, json: parsed });
  } else {
    const body = formBody(form);
    if ("kindSelect" in form.dataset) {
      // The list chose the URL; the fields of the other lists stay out of the request.
      body.delete("kind");
      for (const [name, value] of [...body.entries()]) if (value === "") body.delete(name);
    }
    result = await send(url, { method, body });
  }
  say(form, result.data.message || (result.ok ? "Done" : `HTTP ${result.status}`), !result.ok);
  if (!result.ok) return;
  if ("openMessage" in form.dataset) { await openInjected(result.data, form); return; }
  if (form.dataset.then === "reset") form.reset();
  scheduleRefresh();
}

async function openInjected(answer, target) {
  const query = new URLSearchParams({ message_id: answer.id, direction: "received", limit: "1" });
  const found = await send(`/mock/messages?${query}`, { method: "GET" });
  const first = found.ok && found.data.items[0];
  if (first) location.href = `/messages/${encodeURIComponent(first.id)}`;
  else say(target, "received, but not found in the inbox", true);
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.api) return;
  event.preventDefault();
  submitForm(form).catch((e) => say(form, String(e), true));
});

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-post], button[data-delete]");
  if (!button) return;
  event.preventDefault();
  button.disabled = true;
  try {
    const url = button.dataset.post || button.dataset.delete;
    const json = button.dataset.body ? JSON.parse(button.dataset.body) : null;
    const result = await send(url, { method: button.dataset.post ? "POST" : "DELETE", json });
    toast(result.data.message || `HTTP ${result.status}`, !result.ok);
    if (result.ok && button.dataset.delete && button.closest(".message")) Inbox.close();
    scheduleRefresh();
  } finally {
    button.disabled = false;
  }
});

function setupDrop() {
  const zone = $("[data-drop]");
  if (!zone) return;
  const upload = async (file) => {
    const result = await send(zone.dataset.drop, { body: file });
    say(zone, result.data.message || `HTTP ${result.status}`, !result.ok);
    if (result.ok) await openInjected(result.data, zone);
  };
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) upload(file).catch((err) => say(zone, String(err), true));
  });
  const input = $("input[type=file]", zone);
  input.addEventListener("change", () => { if (input.files[0]) upload(input.files[0]); });
}

// ---------------------------------------------------------------- the message list

const Inbox = {
  skip: 0,
  total: 0,
  items: [],
  openId: "",
  cursor: -1,

  query() {
    const form = $("form.search");
    const params = new URLSearchParams({ limit: String(PAGE), skip: String(this.skip) });
    for (const el of form.elements) {
      if (!el.name) continue;
      if (el.type === "checkbox") { if (el.checked) params.set(el.name, el.value); continue; }
      if (el.value) params.set(el.name, el.value);
    }
    return params;
  },

  async load() {
    const result = await send(`/mock/messages?${this.query()}`, { method: "GET" });
    if (!result.ok) { toast(result.data.message, true); return; }
    this.show(result.data);
  },

  show(data) {
    this.items = data.items;
    this.total = data.total_count;
    if (this.skip && this.skip >= this.total) { this.skip = 0; this.load(); return; }
    document.title = (data.unread_count ? `(${data.unread_count}) ` : "") + "Inbox · mailgun-mock";
    this.facets(data.facets);
    this.render();
  },

  facets(facets) {
    for (const select of $$("select[data-facet]")) {
      const values = facets[select.dataset.facet] || [];
      const keep = select.value;
      const have = $$("option", select).slice(1).map((o) => o.value);
      if (have.join("\n") === values.join("\n")) continue;
      for (const o of $$("option", select).slice(1)) o.remove();
      for (const v of values) { const o = document.createElement("option"); o.value = v; o.textContent = v; select.append(o); }
      select.value = keep;
    }
  },

  render() {
    const list = $(".rows");
    const checked = new Set($$("input[data-select]:checked", list).map((c) => c.value));
    const rows = this.items.map((m, i) => this.row(m, i, checked.has(m.id)));
    list.replaceChildren(...rows);
    $("[data-testid=list-empty]").hidden = this.items.length > 0;
    const end = Math.min(this.skip + this.items.length, this.total);
    $("[data-testid=list-count]").textContent = this.total ? `${this.skip + 1}–${end} of ${this.total}` : "0";
    $("[data-testid=page-prev]").disabled = this.skip === 0;
    $("[data-testid=page-next]").disabled = end >= this.total;
    this.cursor = this.items.findIndex((m) => m.id === this.openId);
    this.selectionChanged();
  },

  row(m, index, checked) {
    const li = document.createElement("li");
    li.className = "row" + (m.read ? "" : " unread") + (m.id === this.openId ? " current" : "");
    li.dataset.testid = "message-row";
    li.dataset.id = m.id;
    const box = document.createElement("input");
    box.type = "checkbox"; box.value = m.id; box.checked = checked; box.dataset.select = "";
    box.setAttribute("aria-label", "select");
    const text = (cls, value, testid) => {
      const span = document.createElement("span");
      span.className = cls; span.textContent = value;
      if (testid) span.dataset.testid = testid;
      return span;
    };
    const who = m.direction === "sent" ? `to ${m.recipients.join(", ")}` : m.from;
    const when = document.createElement("time");
    when.className = "when"; when.textContent = formatDate(m.date);
    const tags = document.createElement("span");
    tags.className = "tags";
    for (const t of m.tags) tags.append(text("tag", t, "row-tag"));
    if (m.attachments.length) tags.append(text("clip", m.attachments.length === 1 ? "1 file" : `${m.attachments.length} files`));
    li.append(box, text(`dir ${m.direction}`, m.direction === "sent" ? "↑" : "↓"), text("who", who, "row-who"),
      text("subject", m.subject || "(no subject)", "row-subject"), text("preview", m.preview),
      text(`badge ${m.status}`, m.status, "row-status"), tags, when);
    li.addEventListener("click", (e) => { if (e.target !== box) this.open(m.id); });
    return li;
  },

  selected() { return $$(".rows input[data-select]:checked").map((c) => c.value); },

  selectionChanged() {
    const any = this.selected().length > 0;
    $("[data-testid=delete-selected]").disabled = !any && !this.openId;
    $("[data-testid=mark-read]").disabled = !any;
  },

  async open(id, push = true) {
    this.openId = id;
    const pane = $(".detail-pane");
    const response = await fetch(`/ui/message/${encodeURIComponent(id)}`, { credentials: "same-origin" });
    if (!response.ok) { pane.textContent = "This message is gone."; return; }
    pane.innerHTML = await response.text();
    formatTimes(pane);
    document.body.classList.add("reading");
    if (push && location.pathname !== `/messages/${id}`) history.pushState({ id }, "", `/messages/${encodeURIComponent(id)}`);
    for (const li of $$(".rows .row")) li.classList.toggle("current", li.dataset.id === id);
    this.cursor = this.items.findIndex((m) => m.id === id);
    const item = this.items[this.cursor];
    if (!item || !item.read) {
      await send("/mock/messages/read", { json: { ids: [id], read: true } });
    }
    this.selectionChanged();
  },

  close() {
    this.openId = "";
    document.body.classList.remove("reading");
    $(".detail-pane").replaceChildren();
    if (location.pathname !== "/") history.pushState({}, "", "/");
  },

  move(step) {
    if (!this.items.length) return;
    const next = Math.max(0, Math.min(this.items.length - 1, this.cursor + step));
    this.open(this.items[next].id);
    const row = $$(".rows .row")[next];
    if (row) row.scrollIntoView({ block: "nearest" });
  },

  async remove() {
    const ids = this.selected().length ? this.selected() : (this.openId ? [this.openId] : []);
    if (!ids.length) return;
    const result = await send("/mock/messages", { method: "DELETE", json: { ids } });
    toast(result.data.message, !result.ok);
    if (ids.includes(this.openId)) this.close();
    await this.load();
  },

  setup() {
    const form = $("form.search");
    let timer = null;
    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => { this.skip = 0; this.load(); }, 120); });
    form.addEventListener("submit", (e) => { e.preventDefault(); this.skip = 0; this.load(); });
    $("[data-testid=page-prev]").addEventListener("click", () => { this.skip = Math.max(0, this.skip - PAGE); this.load(); });
    $("[data-testid=page-next]").addEventListener("click", () => { this.skip += PAGE; this.load(); });
    $("[data-testid=delete-selected]").addEventListener("click", () => this.remove());
    $("[data-testid=mark-read]").addEventListener("click", async () => {
      await send("/mock/messages/read", { json: { ids: this.selected(), read: true } });
      this.load();
    });
    $("[data-testid=select-all]").addEventListener("change", (e) => {
      for (const c of $$(".rows input[data-select]")) c.checked = e.target.checked;
      this.selectionChanged();
    });
    $(".rows").addEventListener("change", () => this.selectionChanged());
    document.addEventListener("keydown", (e) => this.key(e));
    window.addEventListener("popstate", () => {
      const match = location.pathname.match(/^\/messages\/(.+)$/);
      if (match) this.open(decodeURIComponent(match[1]), false); else this.close();
    });
    $(".detail-pane").addEventListener("click", (e) => this.detailClick(e));
    const first = $(".mail").dataset.open;
    // The server sent the first page along (JSON in the page, escaped); later pages are fetched.
    this.show(JSON.parse($("#first-page").textContent));
    if (first) this.open(first, false);
  },

  key(e) {
    const typing = e.target.closest("input, textarea, select, [contenteditable]");
    if (e.key === "/" && !typing) { e.preventDefault(); $("[data-testid=search-input]").focus(); return; }
    if (e.key === "Escape") { if (typing) e.target.blur(); else this.close(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); this.move(this.cursor < 0 ? 0 : 1); }
    else if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); this.move(-1); }
    else if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); this.remove(); }
  },

  async detailClick(e) {
    const tab = e.target.closest("[data-tab]");
    if (tab) {
      for (const t of $$("[data-tab]")) t.setAttribute("aria-selected", String(t === tab));
      for (const p of $$("[data-panel]")) p.hidden = p.dataset.panel !== tab.dataset.tab;
      const raw = $("[data-panel=raw] pre[data-src]");
      if (tab.dataset.tab === "raw" && raw && !raw.dataset.loaded) {
        const response = await fetch(raw.dataset.src, { credentials: "same-origin" });
        raw.textContent = await response.text();
        raw.dataset.loaded = "1";
      }
      return;
    }
    const remote = e.target.closest("[data-remote]");
    if (remote) {
      const on = remote.dataset.remote !== "1";
      remote.dataset.remote = on ? "1" : "0";
      remote.textContent = on ? "Block remote images" : "Load remote images";
      const frame = $("iframe[data-testid=message-iframe]");
      frame.src = `/mock/messages/${encodeURIComponent(this.openId)}/html${on ? "?remote=1" : ""}`;
      return;
    }
    if (e.target.closest("[data-testid=back]")) { this.close(); return; }
    const unread = e.target.closest("[data-unread]");
    if (unread) { await send("/mock/messages/read", { json: { ids: [unread.dataset.unread], read: false } }); this.load(); }
  },
};

document.addEventListener("DOMContentLoaded", () => {
  formatTimes();
  setupDrop();
  if (document.body.dataset.page === "messages") Inbox.setup();
  connectLive();
});
