"""The service worker and the subscribe snippet a tenant serves on its site."""

from __future__ import annotations

import json

SERVICE_WORKER = """// Switchboard Web Push service worker for channel %(account)s
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; }
  catch (e) { data = { body: event.data && event.data.text() }; }
  event.waitUntil(self.registration.showNotification(data.title || "Notification", {
    body: data.body || "", icon: data.icon, data: { url: data.url || "/" },
  }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil(clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
    for (const c of list) { if (c.url === url && "focus" in c) return c.focus(); }
    return clients.openWindow(url);
  }));
});
"""

SUBSCRIBE = """// Switchboard Web Push subscribe snippet for channel %(account)s.
// Serve sw.js from your own origin (a service worker must be same-origin), e.g. /switchboard-sw.js.
(function () {
  const PUBLIC_KEY = %(public_key)s;
  const SUBSCRIBE_URL = %(subscribe_url)s;
  const SW_PATH = (document.currentScript && document.currentScript.dataset.sw) || "/switchboard-sw.js";
  function key(b64) {
    const pad = "=".repeat((4 - (b64.length %% 4)) %% 4);
    const raw = atob((b64 + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  }
  window.switchboardSubscribe = async function () {
    if (!("serviceWorker" in navigator) || !("PushManager" in window)) return null;
    const reg = await navigator.serviceWorker.register(SW_PATH);
    if ((await Notification.requestPermission()) !== "granted") return null;
    const sub = await reg.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: key(PUBLIC_KEY),
    });
    await fetch(SUBSCRIBE_URL, { method: "POST", headers: { "Content-Type": "application/json" },
                                 body: JSON.stringify(sub) });
    return sub;
  };
})();
"""


def service_worker(account_id: str) -> str:
    return SERVICE_WORKER % {"account": account_id}


def subscribe_snippet(account_id: str, public_key: str, subscribe_url: str) -> str:
    return SUBSCRIBE % {
        "account": account_id,
        "public_key": json.dumps(public_key),
        "subscribe_url": json.dumps(subscribe_url),
    }
