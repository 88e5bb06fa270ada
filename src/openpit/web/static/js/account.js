// Balances, positions (with live PnL) and fills from signed REST.
// Invariants: every figure is the server's decimal string, shown as sent; live PnL is
// the server's (positions are refetched, at most once a second, when a trade prints on
// an instrument the user holds), never recomputed here in floats.

import { $, el } from "./dom.js";
import { signed, loggedIn } from "./auth.js";
import { clock } from "./format.js";
import { find, key, label } from "./instruments.js";

export const held = new Set(); // "id|exchange" of instruments with an open position
let pnlTimer = null;

export async function refreshBalances() {
  const balances = await signed("GET", "/api/v1/account/balances");
  const rows = balances.filter((b) => !/^0*\.?0*$/.test(b.total.replace("-", ""))).map((b) => {
    const tr = el("tr");
    tr.dataset.asset = b.asset;
    tr.append(el("td", b.asset), el("td", b.available, "num available"),
      el("td", b.reserved, "num reserved"), el("td", b.total, "num total"));
    return tr;
  });
  $("#balances tbody").replaceChildren(...rows);
  $("#balances").dataset.loaded = String(Number($("#balances").dataset.loaded || 0) + 1);
}

export async function refreshPositions() {
  const positions = await signed("GET", "/api/v1/account/positions");
  held.clear();
  const rows = positions.filter((p) => p.side !== "flat").map((p) => {
    const inst = find(p.symbol, p.exchange);
    if (inst) held.add(key(inst));
    const tr = el("tr");
    tr.dataset.symbol = p.symbol;
    const pnl = p.unrealized_pnl;
    const cls = pnl === null ? "" : pnl.startsWith("-") ? "down" : "up";
    tr.append(el("td", label(p.symbol, p.exchange)), el("td", p.type), el("td", p.side, p.side === "long" ? "buy" : "sell"),
      el("td", p.amount, "num amount"), el("td", p.entry_price ?? "–", "num"),
      el("td", p.mark_price ?? "–", "num"), el("td", pnl ?? "–", "num pnl " + cls),
      el("td", p.realized_pnl, "num"));
    return tr;
  });
  $("#positions tbody").replaceChildren(...rows);
  $("#positions").dataset.count = String(rows.length);
}

export async function refreshFills() {
  const page = await signed("GET", "/api/v1/fills?limit=30");
  const rows = page.items.map((f) => {
    const tr = el("tr");
    tr.dataset.order = f.order_id;
    tr.append(el("td", clock(f.timestamp)), el("td", label(f.symbol, f.exchange)),
      el("td", f.side, f.side), el("td", f.price, "num"), el("td", f.amount, "num"),
      el("td", f.fee + " " + f.fee_asset, "num"), el("td", f.liquidity));
    return tr;
  });
  $("#fills tbody").replaceChildren(...rows);
  $("#fills").dataset.count = String(rows.length);
}

/** A public trade printed on `key`: refresh PnL soon if the user holds it. */
export function tradePrinted(key) {
  if (!loggedIn() || !held.has(key) || pnlTimer) return;
  pnlTimer = setTimeout(() => {
    pnlTimer = null;
    refreshPositions().catch(() => {});
  }, 1000);
}
