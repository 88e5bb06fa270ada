// The live order book of the selected instrument (typed dialect `orderbook_update`:
// full top-N snapshots of decimal strings, with the book's `sequence`).
// Invariants: a snapshot replaces the whole book; depth bars are cumulative size over
// the larger side's cumulative total (Number only for bar widths, text stays strings);
// the sequence shown is the last one applied and never goes backwards within one
// connection (an older snapshot is ignored); after a reconnect it restarts from the
// server's next snapshot and the header says "resynced".

import { $, el } from "./dom.js";
import { fixed, ratio, toUnits, fromUnits, decimalsOf } from "./format.js";

const state = { seq: -1, updates: 0, inst: null };

export function resetBook(inst) {
  state.seq = -1;
  state.inst = inst;
  $("#book-bids").replaceChildren();
  $("#book-asks").replaceChildren();
  $("#book-spread").textContent = "–";
  $("#book-seq").textContent = "";
}

/** After a reconnect: accept the server's next snapshot whatever its sequence. */
export function bookResynced() {
  state.seq = -1;
  $("#book-sync").textContent = "resynced";
  $("#book-sync").className = "note resynced";
}

function cumulative(levels, lotPlaces) {
  let sum = 0n;
  return levels.map((l) => {
    sum += toUnits(l.amount, Math.max(lotPlaces, decimalsOf(l.amount)));
    return fromUnits(sum, Math.max(lotPlaces, decimalsOf(l.amount)));
  });
}

function rows(levels, side, pp, qp, cums, maxCum, mine) {
  return levels.map((l, i) => {
    const price = fixed(l.price, pp);
    const tr = el("tr", null, side);
    tr.dataset.price = price;
    if (mine.has(price)) tr.classList.add("mine");
    const bar = el("td", null, "bar");
    bar.style.setProperty("--w", (ratio(cums[i], maxCum) * 100).toFixed(1) + "%");
    tr.append(el("td", price, "price " + side), el("td", fixed(l.amount, qp), "num"),
      el("td", fixed(cums[i], qp), "num muted"), bar);
    return tr;
  });
}

export function applyBook(data, inst, myPrices) {
  if (data.sequence < state.seq) return;
  state.seq = data.sequence;
  state.updates += 1;
  const pp = decimalsOf(inst.tick_size);
  const qp = decimalsOf(inst.lot_size);
  const bids = data.bids.slice(0, 15);
  const asks = data.asks.slice(0, 15);
  const cb = cumulative(bids, qp);
  const ca = cumulative(asks, qp);
  const last = (a) => (a.length ? a[a.length - 1] : "0");
  const maxCum = Number(last(cb)) > Number(last(ca)) ? last(cb) : last(ca);
  const mine = myPrices || new Set();
  $("#book-asks").replaceChildren(...rows(asks, "ask", pp, qp, ca, maxCum, mine).reverse());
  $("#book-bids").replaceChildren(...rows(bids, "bid", pp, qp, cb, maxCum, mine));
  $("#book-spread").textContent = data.spread === null ? "–" : fixed(data.spread, pp);
  $("#book-seq").textContent = "seq " + data.sequence;
  $("#book").dataset.updates = String(state.updates);
  $("#book").dataset.seq = String(data.sequence);
}

/** The REST snapshot's CRC32 checksum (the typed stream carries none). */
export function showChecksum(snapshot) {
  $("#book-crc").textContent = "crc32 " + (snapshot.checksum >>> 0).toString(16).padStart(8, "0") +
    " @ seq " + snapshot.sequence;
}
