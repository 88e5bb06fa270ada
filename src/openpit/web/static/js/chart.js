// Candle chart: TradingView lightweight-charts (vendor/, global LightweightCharts).
// Invariants: history comes from REST /api/v1/candles (oldest first, decimal strings),
// live candles from the envelope stream `candles:<id>:<interval>`; a live candle
// replaces the bar with the same start (chart.update), never duplicates it. Numbers are
// passed to the chart library for drawing only; no price text is rendered from them.

import { $ } from "./dom.js";
import { publicGet } from "./auth.js";
import { decimalsOf } from "./format.js";

export const INTERVALS = ["1m", "5m", "15m", "1h", "4h", "1d", "1w"];
let chart = null;
let series = null;
let bars = 0;
let lastStart = 0;

function ensure() {
  if (chart) return;
  const LWC = window.LightweightCharts;
  const box = $("#chart");
  chart = LWC.createChart(box, {
    height: 260,
    layout: { background: { color: "#11151c" }, textColor: "#c9d1d9" },
    grid: { vertLines: { color: "#1f2630" }, horzLines: { color: "#1f2630" } },
    timeScale: { timeVisible: true, secondsVisible: false },
    autoSize: true,
  });
  series = chart.addCandlestickSeries();
}

function bar(c) {
  return { time: Math.floor(Number(c.start) / 1000), open: Number(c.open),
    high: Number(c.high), low: Number(c.low), close: Number(c.close) };
}

function count(n) {
  bars = n;
  $("#chart").dataset.bars = String(bars);
}

export async function loadCandles(inst, interval) {
  ensure();
  const pp = decimalsOf(inst.tick_size);
  series.applyOptions({ priceFormat: { type: "price", precision: pp, minMove: Number(inst.tick_size) } });
  const q = "symbol=" + encodeURIComponent(inst.id) + "&exchange=" +
    encodeURIComponent(inst.exchange) + "&interval=" + interval + "&limit=300";
  const candles = await publicGet("/api/v1/candles?" + q);
  series.setData(candles.map(bar));
  lastStart = candles.length ? Number(candles[candles.length - 1].start) : 0;
  count(candles.length);
  chart.timeScale().scrollToRealTime();
}

/** An envelope `candle` message's data (JSON numbers, start_time/end_time). */
export function liveCandle(d) {
  if (!series) return;
  const start = Number(d.start_time);
  if (start < lastStart) return;
  const isNew = start > lastStart;
  lastStart = start;
  series.update({ time: Math.floor(start / 1000), open: d.open, high: d.high, low: d.low,
    close: d.close });
  if (isNew) count(bars + 1);
  $("#chart").dataset.live = String(Number($("#chart").dataset.live || 0) + 1);
}
