// openpit dashboard: wiring. Public data over the typed dialect (/ws?dialect=typed:
// books and trades as decimal strings), live candles over the envelope dialect's
// /ws/market-data, everything else over REST /api/v1 (signed in auth.js).
// Invariants: on every reconnect the page resubscribes, re-authenticates and refetches
// its REST state (there is no resume_from yet) and says "resynced"; the selected
// listing's book/trades/candles only ever show that listing's messages.

import { $, $$, el, toast } from "./dom.js";
import { ApiError, loggedIn, login, logout, publicGet, signed, token, user } from "./auth.js";
import { Socket } from "./ws.js";
import { applyBook, bookResynced, resetBook, showChecksum } from "./book.js";
import { INTERVALS, liveCandle, loadCandles } from "./chart.js";
import { formInstrument, myPrices, renderOpenOrders, setupOrderForm } from "./orders.js";
import { refreshBalances, refreshFills, refreshPositions, tradePrinted } from "./account.js";
import { find, key, list, setInstruments } from "./instruments.js";
import { clock, decimalsOf, fixed, percentChange, plural } from "./format.js";

const S = { current: null, interval: "1m", tickers: new Map(), trades: 0, sockets: [], reconnected: false };

// ---------- instruments picker ----------

function row(inst) {
  return document.querySelector('#instruments tr[data-key="' + CSS.escape(key(inst)) + '"]');
}

function renderRow(inst) {
  const tr = row(inst);
  if (!tr) return;
  const t = S.tickers.get(key(inst)) || {};
  const pp = decimalsOf(inst.tick_size);
  tr.querySelector(".last").textContent = fixed(t.last, pp);
  const chg = t.last && t.open ? percentChange(t.last, t.open) : null;
  const c = tr.querySelector(".chg");
  c.textContent = chg || "–";
  c.className = "chg num " + (chg === null ? "" : chg.startsWith("-") ? "down" : "up");
  tr.dataset.last = t.last || "";
}

function buildPicker() {
  const body = $("#instruments tbody");
  body.replaceChildren();
  for (const inst of list) {
    const tr = el("tr");
    tr.dataset.key = key(inst);
    tr.dataset.id = inst.id;
    tr.append(el("td", inst.symbol + " · " + inst.exchange, "name"), el("td", "–", "last num"),
      el("td", "–", "chg num"), el("td", inst.halted ? "halted" : "trading", "state" + (inst.halted ? " halted" : "")));
    tr.addEventListener("click", () => select(inst));
    body.append(tr);
  }
}

async function loadTicker(inst) {
  const q = "symbol=" + encodeURIComponent(inst.id) + "&exchange=" + encodeURIComponent(inst.exchange);
  const t = await publicGet("/api/v1/ticker?" + q);
  const prev = S.tickers.get(key(inst)) || {};
  // a trade seen on the stream after this snapshot was taken is newer than its `last`
  const last = prev.lastTs && prev.lastTs > t.timestamp ? prev.last : t.last;
  S.tickers.set(key(inst), { ...t, last, lastTs: Math.max(prev.lastTs || 0, t.timestamp) });
  renderRow(inst);
  if (inst === S.current) renderStats();
}

function loadAllTickers() {
  return Promise.all(list.map((i) => loadTicker(i).catch(() => {})));
}

function renderStats() {
  const inst = S.current;
  const t = S.tickers.get(key(inst));
  if (!t) return;
  const pp = decimalsOf(inst.tick_size);
  const qp = decimalsOf(inst.lot_size);
  const items = [["last", fixed(t.last, pp)], ["24h change", percentChange(t.last, t.open) || "–"],
    ["24h high", fixed(t.high, pp)], ["24h low", fixed(t.low, pp)], ["bid", fixed(t.bid, pp)],
    ["ask", fixed(t.ask, pp)], ["24h volume", fixed(t.volume, qp) + " " + inst.base],
    ["24h trades", String(t.trades)]];
  $("#stats").replaceChildren(...items.map(([k, v]) => {
    const d = el("div", null, "stat");
    d.append(el("span", k, "muted"), el("b", v));
    return d;
  }));
}

// ---------- typed socket: books, trades, private streams ----------

function publicChannels() {
  const ch = list.map((i) => ({ type: "trades", pair: i.symbol, venue: i.exchange }));
  if (S.current) ch.push({ type: "orderbook", pair: S.current.symbol, venue: S.current.exchange, depth: 15 });
  return ch;
}

async function authenticateTyped() {
  if (!loggedIn()) return;
  try {
    const t = await token();
    typed.send({ type: "authenticate", token: t.token });
  } catch (err) {
    toast("could not get a session token: " + err.message, "error");
  }
}

function onTyped(msg) {
  const d = msg.data;
  switch (msg.type) {
    case "ping": typed.send({ type: "pong" }); break;
    case "trade": onTrade(d); break;
    case "orderbook_update":
      if (S.current && d.pair === S.current.symbol && d.venue === S.current.exchange)
        applyBook(d, S.current, myPrices(S.current));
      break;
    case "authenticated":
      typed.send({ type: "subscribe", channels: [{ type: "orders" }, { type: "portfolio" }, { type: "positions" }] });
      break;
    case "order_update": onOrderUpdate(d); break;
    case "portfolio_update": case "position_update": soon(refreshAccount); break;
    case "margin_call": toast("margin call (" + d.severity + "): " + (d.pair || "") + " " + (d.message || ""), "error"); break;
    case "risk_alert": toast("risk alert: " + d.message, "error"); break;
    case "error": if (msg.error) console.warn("typed error", msg.error); break;
    default: break;
  }
}

function onTrade(d) {
  const inst = find(d.pair, d.venue);
  if (!inst) return;
  const k = key(inst);
  const t = S.tickers.get(k) || {};
  if (!t.lastTs || d.timestamp >= t.lastTs) {
    t.last = d.price;
    t.lastTs = d.timestamp;
  }
  S.tickers.set(k, t);
  renderRow(inst);
  tradePrinted(k);
  if (inst !== S.current) return;
  addTrade(d, inst);
  renderStats();
  soonTicker();
}

function addTrade(d, inst) {
  const body = $("#trades tbody");
  const tr = el("tr");
  tr.append(el("td", clock(d.timestamp)), el("td", d.side, d.side),
    el("td", fixed(d.price, decimalsOf(inst.tick_size)), "num " + d.side),
    el("td", fixed(d.amount, decimalsOf(inst.lot_size)), "num"));
  body.prepend(tr);
  while (body.rows.length > 40) body.deleteRow(body.rows.length - 1);
  S.trades += 1;
  $("#trades").dataset.count = String(S.trades);
}

function onOrderUpdate(d) {
  const what = d.side + " " + d.amount + " " + d.pair + " · " + d.venue;
  if (d.status === "filled") toast("filled: " + what + " at " + (d.averagePrice || d.price), "good");
  else if (d.status === "partially_filled") toast("partial fill: " + d.filled + " of " + what, "good");
  else if (d.status === "rejected") toast("rejected: " + what + (d.reason ? " (" + d.reason + ")" : ""), "error");
  else if (d.status === "expired") toast("expired: " + what, "info");
  soon(refreshAccount);
}

// ---------- envelope socket: live candles ----------

function candleChannel() {
  return "candles:" + S.current.id + ":" + S.interval;
}

function onEnvelope(msg) {
  // envelope heartbeat every 30 s (docs/dialects.md): answer, or be closed when idle
  if (msg.type === "heartbeat" || msg.type === "ping") return candles.send({ action: "pong" });
  if (msg.type === "candle" && S.current && msg.channel === candleChannel()) liveCandle(msg.data);
}

// ---------- connection status ----------

function status() {
  const states = S.sockets.map((s) => s.status);
  const pill = $("#conn");
  if (states.every((s) => s === "live")) {
    pill.textContent = S.reconnected ? "live · resynced" : "live";
    pill.className = "pill on";
  } else if (states.some((s) => s === "reconnecting")) {
    pill.textContent = "reconnecting…";
    pill.className = "pill off";
  } else {
    pill.textContent = "connecting…";
    pill.className = "pill off";
  }
}

async function loadStatus() {
  try {
    const st = await publicGet("/api/v1/status");
    $("#venues").replaceChildren(...st.venues.map((v) => el("li", v.id + ": " + v.status, v.status)));
    $("#seq").textContent = "venue sequence " + st.sequence + " · " + plural(st.connections, "connection");
    for (const s of st.instruments) {
      const inst = find(s.symbol, s.exchange);
      const tr = inst && row(inst);
      if (!tr) continue;
      const cell = tr.querySelector(".state");
      cell.textContent = s.halted ? "halted" : "trading";
      cell.className = "state" + (s.halted ? " halted" : "");
    }
  } catch (err) {
    $("#seq").textContent = String(err.message || err);
  }
}

// ---------- selection ----------

let tickerTimer = null;
function soonTicker() {
  if (tickerTimer) return;
  tickerTimer = setTimeout(() => { tickerTimer = null; loadTicker(S.current).catch(() => {}); }, 1000);
}

const pending = new Map();
function soon(fn, ms = 150) {
  if (pending.has(fn)) return;
  pending.set(fn, setTimeout(() => { pending.delete(fn); fn(); }, ms));
}

async function loadTrades(inst) {
  const q = "symbol=" + encodeURIComponent(inst.id) + "&exchange=" + encodeURIComponent(inst.exchange) + "&limit=30";
  const trades = await publicGet("/api/v1/trades?" + q);
  if (S.current !== inst || $("#trades tbody").rows.length) return;
  for (const t of trades.reverse()) addTrade(t, inst);
}

async function loadSnapshot(inst) {
  const q = "symbol=" + encodeURIComponent(inst.id) + "&exchange=" + encodeURIComponent(inst.exchange) + "&depth=10";
  showChecksum(await publicGet("/api/v1/orderbook?" + q));
}

function select(inst) {
  const prev = S.current;
  if (prev === inst) return;
  if (prev) {
    typed.send({ type: "unsubscribe", channels: [{ type: "orderbook", pair: prev.symbol, venue: prev.exchange, depth: 15 }] });
    candles.send({ action: "unsubscribe", data: { channels: [candleChannel()] }, id: "c-" + Date.now() });
  }
  S.current = inst;
  for (const tr of $$("#instruments tbody tr")) tr.classList.toggle("sel", tr.dataset.key === key(inst));
  $("#title").textContent = inst.symbol + " · " + inst.exchange;
  $("#trades tbody").replaceChildren();
  resetBook(inst);
  formInstrument(inst);
  renderStats();
  history.replaceState(null, "", "?symbol=" + encodeURIComponent(inst.symbol) + "&venue=" + encodeURIComponent(inst.exchange));
  typed.send({ type: "subscribe", channels: [{ type: "orderbook", pair: inst.symbol, venue: inst.exchange, depth: 15 }] });
  candles.send({ action: "subscribe", data: { channels: [candleChannel()] }, id: "c-" + Date.now() });
  loadTrades(inst).catch(() => {});
  loadTicker(inst).catch(() => {});
  loadSnapshot(inst).catch(() => {});
  loadCandles(inst, S.interval).catch((e) => toast("candles: " + e.message, "error"));
}

function setInterval_(iv) {
  if (iv === S.interval) return;
  candles.send({ action: "unsubscribe", data: { channels: [candleChannel()] }, id: "c-" + Date.now() });
  S.interval = iv;
  for (const b of $$("#intervals button")) b.classList.toggle("on", b.dataset.iv === iv);
  candles.send({ action: "subscribe", data: { channels: [candleChannel()] }, id: "c-" + Date.now() });
  loadCandles(S.current, iv).catch(() => {});
}

// ---------- account ----------

async function refreshOrders() {
  const orders = await signed("GET", "/api/v1/orders");
  renderOpenOrders(orders);
}

async function refreshAccount() {
  if (!loggedIn()) return;
  await Promise.all([refreshOrders(), refreshBalances(), refreshPositions(), refreshFills()])
    .catch((e) => toast("account refresh: " + e.message, "error"));
}

async function doLogin(apiKey, secret) {
  $("#login-error").textContent = "";
  try {
    await login(apiKey.trim(), secret.trim());
  } catch (err) {
    $("#login-error").textContent = err instanceof ApiError ? err.message : String(err);
    return;
  }
  $("#login").hidden = true;
  $("#account").hidden = false;
  $("#whoami").textContent = user() + " (" + apiKey.trim() + ")";
  $("#o-submit").disabled = false;
  await authenticateTyped();
  await refreshAccount();
  toast("logged in as " + user(), "good");
}

function setupLogin() {
  $("#login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    doLogin($("#api-key").value, $("#api-secret").value);
  });
  $("#logout").addEventListener("click", () => {
    logout();
    $("#login").hidden = false;
    $("#account").hidden = true;
    $("#o-submit").disabled = true;
    for (const t of ["#open-orders", "#balances", "#positions", "#fills"]) $(t + " tbody").replaceChildren();
    S.quiet = true; // a reconnect we asked for: no "resynced" note
    typed.reset(); // drop the authenticated session
  });
  publicGet("/web/demo-key").then((demo) => {
    const b = $("#demo-login");
    b.hidden = false;
    b.addEventListener("click", () => doLogin(demo.api_key, demo.api_secret));
  }).catch(() => {});
}

// ---------- start ----------

function resynced() {
  S.reconnected = true;
  bookResynced();
  status();
  toast("reconnected: subscriptions and state resynced", "info");
}

const typed = new Socket("/ws?dialect=typed", {
  onOpen(first) {
    if (list.length) typed.send({ type: "subscribe", channels: publicChannels() });
    if (!first && S.quiet) S.quiet = false;
    else if (!first) {
      resynced();
      if (S.current) loadSnapshot(S.current).catch(() => {});
      authenticateTyped();
      refreshAccount();
      loadAllTickers();
      loadStatus();
    }
  },
  onMessage: onTyped,
  onStatus: status,
});
const candles = new Socket("/ws/market-data", {
  onOpen(first) {
    if (S.current) candles.send({ action: "subscribe", data: { channels: [candleChannel()] }, id: "c-" + Date.now() });
    if (!first && S.current) loadCandles(S.current, S.interval).catch(() => {});
  },
  onMessage: onEnvelope,
  onStatus: status,
});
S.sockets = [typed, candles];

async function main() {
  $("#intervals").replaceChildren(...INTERVALS.map((iv) => {
    const b = el("button", iv, iv === S.interval ? "on" : "", { type: "button" });
    b.dataset.iv = iv;
    b.addEventListener("click", () => setInterval_(iv));
    return b;
  }));
  setupOrderForm(() => S.current, () => soon(refreshAccount, 50));
  setupLogin();
  setInstruments(await publicGet("/api/v1/instruments"));
  buildPicker();
  const params = new URLSearchParams(location.search);
  const wanted = find(params.get("symbol") || "", params.get("venue") || params.get("exchange") || "") ||
    find(params.get("symbol") || "") || list[0];
  typed.send({ type: "subscribe", channels: list.map((i) => ({ type: "trades", pair: i.symbol, venue: i.exchange })) });
  if (wanted) select(wanted);
  loadAllTickers();
  loadStatus();
  setInterval(loadStatus, 5000);
  setInterval(loadAllTickers, 15000);
}

main().catch((err) => { $("#title").textContent = String(err.message || err); });
