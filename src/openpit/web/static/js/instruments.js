// The instrument registry from REST /api/v1/instruments.
// Invariant: a listing is named as people name it, "symbol · venue"
// ("LUXURY001/XRP · xrpl"), never by its internal id; lookups accept the id or the
// symbol together with the venue, since a symbol may be listed on several venues.

export const list = [];

export function setInstruments(items) {
  list.splice(0, list.length, ...items);
}

export function find(symbol, exchange) {
  return list.find((i) => (i.id === symbol || i.symbol === symbol) && (!exchange || i.exchange === exchange)) || null;
}

export function key(inst) {
  return inst.id + "|" + inst.exchange;
}

export function label(symbol, exchange) {
  const inst = find(symbol, exchange);
  return (inst ? inst.symbol : symbol) + " · " + exchange;
}
