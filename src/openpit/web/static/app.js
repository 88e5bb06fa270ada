// openpit dashboard: instruments and venue status from the REST API, a live order book
// and trades for one instrument over the flat WebSocket dialect. No build step, no CDN.
"use strict";

const state = { instruments: [], current: null, ws: null, bookUpdates: 0, trades: 0, retry: 500 };
const $ = (sel) => document.querySelector(sel);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" } });
  if (!resp.ok) throw new Error(path + ": HTTP " + resp.status);
  return resp.json();
}

async function loadInstruments() {
  state.instruments = await getJSON("/api/v1/instruments");
  const body = $("#instruments tbody");
  body.replaceChildren();
  for (const inst of state.instruments) {
    const tr = el("tr");
    tr.dataset.id = inst.id;
    tr.append(el("td", inst.id), el("td", inst.exchange), el("td", "–"),
      el("td", inst.halted ? "halted" : "trading", inst.halted ? "halted" : ""));
    tr.addEventListener("click", () => select(inst.id));
    body.append(tr);
  }
  const wanted = new URLSearchParams(location.search).get("symbol");
  const first = state.instruments.find((i) => i.id === wanted) || state.instruments[0];
  if (first) select(first.id);
}

async function loadStatus() {
  try {
    const st = await getJSON("/api/v1/status");
    const ul = $("#venues");
    ul.replaceChildren();
    for (const v of st.venues) ul.append(el("li", v.id + ": " + v.status));
    $("#seq").textContent = "sequence " + st.sequence + " · " + st.connections + " connections";
    for (const i of st.instruments) {
      const row = document.querySelector('#instruments tr[data-id="' + CSS.escape(i.symbol) + '"]');
      if (row) {
        row.cells[3].textContent = i.halted ? "halted" : "trading";
        row.cells[3].className = i.halted ? "halted" : "";
      }
    }
  } catch (err) {
    $("#seq").textContent = String(err);
  }
}

function send(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function topics(inst) {
  return {
    channels: ["orderbook", "trades", "market_data"],
    params: { exchange: inst.exchange, symbols: [inst.id], depth: 15 },
  };
}

function select(id) {
  const inst = state.instruments.find((i) => i.id === id);
  if (!inst) return;
  if (state.current) send({ action: "unsubscribe", ...topics(state.current) });
  state.current = inst;
  for (const tr of document.querySelectorAll("#instruments tr")) {
    tr.classList.toggle("sel", tr.dataset.id === id);
  }
  $("#title").textContent = inst.id + " · " + inst.exchange;
  $("#ticker").textContent = "";
  $("#book tbody").replaceChildren();
  $("#trades tbody").replaceChildren();
  send({ action: "subscribe", ...topics(inst) });
  fetch("/api/v1/trades?symbol=" + encodeURIComponent(inst.id) + "&exchange=" +
    encodeURIComponent(inst.exchange) + "&limit=20")
    .then((r) => (r.ok ? r.json() : []))
    .then((trades) => {
      if (state.current !== inst || $("#trades tbody").rows.length) return;
      for (const t of trades.reverse()) addTrade({ ...t, amount: t.amount });
    })
    .catch(() => {});
}

function renderBook(data) {
  const body = $("#book tbody");
  const rows = Math.max(data.bids.length, data.asks.length);
  const out = [];
  for (let i = 0; i < rows; i++) {
    const b = data.bids[i] || ["", ""];
    const a = data.asks[i] || ["", ""];
    const tr = el("tr");
    tr.append(el("td", b[1]), el("td", b[0], "bid"), el("td", a[0], "ask"), el("td", a[1]));
    out.push(tr);
  }
  body.replaceChildren(...out);
  state.bookUpdates += 1;
  $("#book").dataset.updates = String(state.bookUpdates);
}

function addTrade(t) {
  const body = $("#trades tbody");
  const tr = el("tr");
  const time = new Date(Number(t.timestamp)).toLocaleTimeString();
  tr.append(el("td", time), el("td", t.side, t.side), el("td", t.price), el("td", t.amount));
  body.prepend(tr);
  while (body.rows.length > 30) body.deleteRow(body.rows.length - 1);
  state.trades += 1;
  $("#trades").dataset.count = String(state.trades);
  const row = document.querySelector('#instruments tr[data-id="' + CSS.escape(state.current.id) + '"]');
  if (row) row.cells[2].textContent = t.price;
}

function onMessage(msg) {
  if (msg.event === "ping") return send({ action: "pong" });
  if (!state.current || msg.symbol === undefined) return;
  if (msg.symbol !== state.current.symbol && msg.symbol !== state.current.id) return;
  if (msg.exchange !== undefined && msg.exchange !== state.current.exchange) return;
  if (msg.channel === "orderbook") renderBook(msg.data);
  else if (msg.channel === "trades") addTrade(msg.data);
  else if (msg.channel === "market_data") {
    const d = msg.data;
    $("#ticker").textContent = "last " + d.price + " · bid " + d.bid + " · ask " + d.ask +
      " · 24h high " + d.high + " low " + d.low + " vol " + d.volume;
  }
}

function connect() {
  const proto = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(proto + location.host + "/ws?dialect=flat");
  state.ws = ws;
  ws.onopen = () => {
    state.retry = 500;
    $("#conn").textContent = "live";
    $("#conn").className = "pill on";
    if (state.current) send({ action: "subscribe", ...topics(state.current) });
  };
  ws.onmessage = (ev) => {
    try { onMessage(JSON.parse(ev.data)); } catch (err) { console.error(err); }
  };
  ws.onclose = () => {
    $("#conn").textContent = "disconnected, retrying…";
    $("#conn").className = "pill off";
    setTimeout(connect, state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  };
}

connect();
loadInstruments().catch((err) => { $("#title").textContent = String(err); });
loadStatus();
setInterval(loadStatus, 5000);
