// Order entry, open orders (modify, cancel) over signed REST.
// Invariants: an order is checked in the page first (decimal syntax, tick size, lot
// size, min quantity, required prices per type) and is not sent when a check fails;
// what the venue refuses is shown with its own message and reason code, unchanged.
// The open-orders table is always a fresh GET /api/v1/orders after any change seen.

import { $, el, toast } from "./dom.js";
import { signed, loggedIn } from "./auth.js";
import { find, label } from "./instruments.js";
import { compare, decimalsOf, fixed, isDecimal, isMultiple, clock } from "./format.js";

let side = "buy";
let getInst = () => null;
let onChange = () => {};
export const mine = new Map(); // order id -> order (open orders of the user)

const NEEDS_PRICE = new Set(["limit", "stop_limit"]);
const NEEDS_STOP = new Set(["stop", "stop_limit"]);

/** Client-side checks; returns an error text or null. */
export function checkOrder(inst, o) {
  const sym = inst.symbol;
  if (!isDecimal(o.amount) || compare(o.amount, "0") <= 0) return "amount must be a positive number";
  if (!isMultiple(o.amount, inst.lot_size))
    return `amount ${o.amount} is not a multiple of the lot size ${inst.lot_size} for ${sym}`;
  if (compare(o.amount, inst.min_qty) < 0)
    return `amount ${o.amount} is below the minimum quantity ${inst.min_qty} for ${sym}`;
  for (const [field, name] of [["price", "price"], ["stop_price", "stop price"]]) {
    const need = field === "price" ? NEEDS_PRICE.has(o.type) : NEEDS_STOP.has(o.type);
    if (!need) continue;
    const v = o[field];
    if (!isDecimal(v) || compare(v, "0") <= 0) return `${name} is required for a ${o.type.replace("_", "-")} order`;
    if (!isMultiple(v, inst.tick_size))
      return `${name} ${v} is not a multiple of the tick size ${inst.tick_size} for ${sym}`;
  }
  if (o.post_only && o.type !== "limit") return "post-only applies to limit orders only";
  return null;
}

function formOrder(inst) {
  const type = $("#o-type").value;
  const o = { symbol: inst.id, exchange: inst.exchange, side, type,
    amount: $("#o-amount").value.trim(), time_in_force: $("#o-tif").value };
  if (NEEDS_PRICE.has(type)) o.price = $("#o-price").value.trim();
  if (NEEDS_STOP.has(type)) o.stop_price = $("#o-stop").value.trim();
  if ($("#o-post").checked) o.post_only = true;
  return o;
}

function showError(text) {
  const e = $("#order-error");
  e.textContent = text || "";
  e.hidden = !text;
}

function venueText(err) {
  return err.code ? `${err.message} (${err.code})` : err.message;
}

async function submit(ev) {
  ev.preventDefault();
  const inst = getInst();
  if (!inst) return;
  if (!loggedIn()) return showError("log in to trade");
  const o = formOrder(inst);
  const bad = checkOrder(inst, o);
  if (bad) {
    showError(bad);
    $("#order-error").dataset.source = "client";
    return;
  }
  showError("");
  try {
    const placed = await signed("POST", "/api/v1/orders", o);
    $("#order-result").textContent = `${placed.side} ${placed.amount} ${inst.symbol}: ${placed.status} (order ${placed.id})`;
    onChange();
  } catch (err) {
    showError("rejected: " + venueText(err));
    $("#order-error").dataset.source = "venue";
  }
}

function syncForm() {
  const type = $("#o-type").value;
  $("#o-price-row").hidden = !NEEDS_PRICE.has(type);
  $("#o-stop-row").hidden = !NEEDS_STOP.has(type);
  $("#o-post").disabled = type !== "limit";
  if (type !== "limit") $("#o-post").checked = false;
}

export function setupOrderForm(currentInst, changed) {
  getInst = currentInst;
  onChange = changed;
  for (const b of document.querySelectorAll("#o-side button")) {
    b.addEventListener("click", () => {
      side = b.dataset.side;
      for (const x of document.querySelectorAll("#o-side button")) x.classList.toggle("on", x === b);
      $("#o-submit").textContent = side === "buy" ? "Buy" : "Sell";
      $("#o-submit").className = side;
    });
  }
  $("#o-type").addEventListener("change", syncForm);
  $("#order-form").addEventListener("submit", submit);
  syncForm();
}

export function formInstrument(inst) {
  const pp = decimalsOf(inst.tick_size);
  const qp = decimalsOf(inst.lot_size);
  $("#o-title").textContent = inst.symbol + " · " + inst.exchange;
  $("#o-rules").textContent = `tick ${inst.tick_size} · lot ${inst.lot_size} · min ${inst.min_qty}`;
  $("#o-price").step = inst.tick_size;
  $("#o-price").placeholder = fixed("0", pp);
  $("#o-stop").step = inst.tick_size;
  $("#o-amount").step = inst.lot_size;
  $("#o-amount").placeholder = fixed(inst.min_qty, qp);
  showError("");
}

async function cancel(id) {
  try {
    await signed("DELETE", "/api/v1/orders/" + encodeURIComponent(id));
    toast("order " + id + " cancelled", "info");
  } catch (err) {
    toast("cancel refused: " + venueText(err), "error");
  }
  onChange();
}

function editRow(tr, order) {
  const inst = find(order.symbol, order.exchange);
  const price = el("input", null, "edit-price", { value: order.price || "", size: "10", "aria-label": "new price" });
  const amount = el("input", null, "edit-amount", { value: order.remaining, size: "8", "aria-label": "new amount" });
  const save = el("button", "save", "save");
  const back = el("button", "×", "back");
  const err = el("span", "", "err");
  tr.cells[4].replaceChildren(price);
  tr.cells[5].replaceChildren(amount);
  tr.cells[8].replaceChildren(save, back, err);
  back.addEventListener("click", () => onChange());
  save.addEventListener("click", async () => {
    const body = {};
    if (price.value.trim() !== (order.price || "")) body.price = price.value.trim();
    if (amount.value.trim() !== order.remaining) body.amount = amount.value.trim();
    const probe = { type: order.type === "stop" ? "stop_limit" : order.type, amount: body.amount || order.remaining,
      price: body.price || order.price, stop_price: order.stop_price || "1" };
    const bad = inst && checkOrder(inst, probe);
    if (bad) { err.textContent = bad; return; }
    try {
      await signed("PATCH", "/api/v1/orders/" + encodeURIComponent(order.id), body);
      toast("order " + order.id + " modified", "info");
      onChange();
    } catch (e) {
      err.textContent = venueText(e);
    }
  });
}

export function renderOpenOrders(orders) {
  mine.clear();
  const rows = [];
  for (const o of orders) {
    mine.set(o.id, o);
    const tr = el("tr");
    tr.dataset.id = o.id;
    const modify = el("button", "modify", "modify");
    const cancelB = el("button", "cancel", "cancel");
    const acts = el("td", null, "acts");
    acts.append(modify, cancelB);
    tr.append(el("td", clock(o.created)), el("td", label(o.symbol, o.exchange)),
      el("td", o.side, o.side), el("td", o.type + (o.post_only ? " post" : "")),
      el("td", o.price === null ? (o.stop_price ? "stop " + o.stop_price : "market") : o.price, "num price"),
      el("td", o.remaining, "num amount"), el("td", o.filled, "num"), el("td", o.status), acts);
    modify.addEventListener("click", () => editRow(tr, o));
    cancelB.addEventListener("click", () => cancel(o.id));
    rows.push(tr);
  }
  $("#open-orders tbody").replaceChildren(...rows);
  $("#open-orders").dataset.count = String(orders.length);
}

/** Prices of the user's resting orders on one listing, to mark them in the book. */
export function myPrices(inst) {
  const out = new Set();
  for (const o of mine.values()) {
    if (find(o.symbol, o.exchange) === inst && o.price) out.add(o.price);
  }
  return out;
}
