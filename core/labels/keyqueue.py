"""The Annotate page's key queue: a few lines of JavaScript (a Streamlit components-v2
component, served by the app's own server) that keep every key a reviewer types.

Why: Streamlit's own shortcuts click a button; a click while the page reruns can be dropped
or coalesced, so "6 S 6 S" typed fast could lose a save. Here the browser numbers each key
it keeps (1, 2, 3, ...) and sends the whole list of keys not yet applied as the component's
state; every run applies the ones numbered above the last it applied (`AnnotateSession.
press_queued`) and sends that number back (`acked`), so the browser forgets them. A list sent
twice, or a run cut short by a newer one, never applies a key twice or skips one: keys land in
the order typed once the page is ready.

The same script scrolls a message into view when the session asks (page keys, jump to the
first tool error or the end) and puts the focus in the note field ("Other — describe it").
Keys typed in a text field are text, not shortcuts (Esc leaves the field).
"""

from __future__ import annotations

KEY_QUEUE_JS = """
export default function (component) {
  const { setStateValue } = component;
  const data = component.data[0];  // sent as [data] (core/ui.py key_queue says why)
  const q = window.__triageKeyQueue ||
    (window.__triageKeyQueue = { seq: 0, pending: [], listening: false });
  q.send = setStateValue;
  q.active = true;
  q.watch = new Set(data.keys);
  if (data.acked > q.seq) q.seq = data.acked;
  q.pending = q.pending.filter((p) => p[0] > data.acked);
  if (!q.listening) {
    q.listening = true;
    document.addEventListener("keydown", (e) => {
      if (!q.active || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
      const t = e.target;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" ||
                t.isContentEditable)) return;
      const k = e.key.length === 1 ? e.key.toUpperCase() : e.key;
      if (!q.watch.has(k)) return;
      e.preventDefault();
      e.stopPropagation();
      q.pending.push([++q.seq, k]);
      q.send("pressed", q.pending.slice());
    }, true);
  }
  const whenThere = (find, act, tries) => {
    const el = find();
    if (el) act(el); else if (tries > 0) setTimeout(() => whenThere(find, act, tries - 1), 50);
  };
  if (data.scroll && data.scroll[1] !== q.scrolled) {
    q.scrolled = data.scroll[1];
    whenThere(() => document.querySelector(
      '[data-testid="stElementContainer"]:not([data-stale="true"]) #tr-m' + data.scroll[0]),
      (el) => el.scrollIntoView({ block: "start" }), 60);
  }
  if (data.focus && data.focus !== q.focused) {
    q.focused = data.focus;
    whenThere(() => document.querySelector('textarea[aria-label="Note"]'),
      (el) => el.focus(), 60);
  }
  return () => { q.active = false; };
}
"""
