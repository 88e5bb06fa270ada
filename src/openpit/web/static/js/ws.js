// One WebSocket with automatic reconnect (backoff 250 ms .. 5 s).
// Invariants: `onOpen(first)` runs on every (re)connection, so callers resubscribe
// and refetch there; `send` drops nothing silently (returns false while closed);
// `status` is "connecting" | "live" | "reconnecting".

export class Socket {
  constructor(path, { onOpen, onMessage, onStatus }) {
    this.path = path;
    this.onOpen = onOpen;
    this.onMessage = onMessage;
    this.onStatus = onStatus || (() => {});
    this.retry = 250;
    this.opens = 0;
    this.status = "connecting";
    this.ws = null;
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(proto + location.host + this.path);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 250;
      this.opens += 1;
      this.setStatus("live");
      try { this.onOpen(this.opens === 1); } catch (err) { console.error(err); }
    };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch { return; }
      try { this.onMessage(msg); } catch (err) { console.error(err); }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setStatus("reconnecting");
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 5000);
    };
  }

  setStatus(status) {
    this.status = status;
    this.onStatus(status);
  }

  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Close and reconnect now (e.g. to drop a session after logout). */
  reset() {
    if (this.ws) this.ws.close();
  }
}
