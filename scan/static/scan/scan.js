// The scanning page: a location, then products; each posting goes through an outbox in IndexedDB
// with its idempotency key, so that a posting made offline is sent when the network returns, and a
// replay of the same item posts nothing twice (the API answers the original with Idempotent-Replayed).
(() => {
  "use strict";
  const root = document.getElementById("scanner");
  const $ = (id) => document.getElementById(id);
  const CAN_POST = root.dataset.canPost === "true";
  const API = root.dataset.api;
  const REPEAT_MS = 1500;   // the same code again within this is the scanner repeating itself
  const WEDGE_GAP_MS = 150;  // a hand scanner types faster than this between keys (up to 80 ms seen under load); people do not

  // ---- IndexedDB: the outbox (in order), refusals kept until dismissed, and the codes ----
  const dbReady = new Promise((resolve, reject) => {
    const open = indexedDB.open("wms-scan", 1);
    open.onupgradeneeded = () => {
      const db = open.result;
      db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      db.createObjectStore("refusals", { keyPath: "key" });
      db.createObjectStore("codes");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  const store = async (name, mode, work) => {
    const db = await dbReady;
    return new Promise((resolve, reject) => {
      const tx = db.transaction(name, mode);
      const result = work(tx.objectStore(name));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : result);
      tx.onerror = () => reject(tx.error);
    });
  };
  const all = (name) => store(name, "readonly", (s) => s.getAll());

  // ---- codes: what a scan means, from the server when online, from IndexedDB otherwise ----
  let codes = { locations: new Map(), products: new Map() };
  const indexCodes = (data) => {
    const locations = new Map(), products = new Map();
    for (const loc of data.locations) for (const c of loc.codes) locations.set(c, loc);
    for (const p of data.products) for (const c of p.codes) products.set(c, p);
    codes = { locations, products };
  };
  async function loadCodes() {
    try {
      const response = await fetch(root.dataset.codes, { credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      indexCodes(data);
      await store("codes", "readwrite", (s) => s.put(data, "all"));
    } catch (err) {
      const kept = await store("codes", "readonly", (s) => s.get("all"));
      if (kept) indexCodes(kept);
    }
  }
  // A GS1 element string (with its symbology identifier, FNC1 as GS, or the parentheses form).
  const GS1 = /^(\]C1|\]d2|\]Q3|\]e0|\(01\)|01\d{14}.)/;
  const gtinOf = (raw) => { const m = raw.replace(/^\](C1|d2|Q3|e0)/, "").match(/^\(?01\)?(\d{14})/); return m && m[1]; };
  // The length (AI and data) of the AIs of predefined length, by their first two digits (GS1 General
  // Specifications, 7.8.5); any other field ends at FNC1 (GS) or at the end.
  const GS1_FIXED = { "00": 20, "01": 16, "02": 16, "03": 16, "04": 18, "11": 8, "12": 8, "13": 8, "14": 8, "15": 8,
    "16": 8, "17": 8, "18": 8, "19": 8, "20": 4, "31": 10, "32": 10, "33": 10, "34": 10, "35": 10, "36": 10, "41": 16 };
  // Whether a label gives its own quantity (AI 37, a count of trade items): the posting then gives none.
  function gs1Count(raw) {
    if (/^\(\d/.test(raw)) return /\(37\)/.test(raw);
    let rest = raw.replace(/^\](C1|d2|Q3|e0)/, "");
    while (rest) {
      if (rest.startsWith("37")) return true;
      const fixed = GS1_FIXED[rest.slice(0, 2)];
      const end = fixed || rest.indexOf("\x1d");
      if (end < 0) return false;
      rest = rest.slice(end).replace(/^\x1d/, "");
    }
    return false;
  }
  function resolve(raw) {
    const code = raw.trim();
    if (codes.locations.has(code)) return { type: "location", location: codes.locations.get(code) };
    if (codes.products.has(code)) return { type: "product", product: codes.products.get(code) };
    if (GS1.test(code)) {
      const gtin = gtinOf(code);
      for (const [c, p] of codes.products) if (gtin && /^\d+$/.test(c) && c.padStart(14, "0") === gtin) return { type: "product", product: p, gs1: code };
    }
    return { type: "unknown", code };
  }

  // ---- feedback: a large message, a colour and a sound ----
  let audio;
  function beep(ok) {
    try {
      audio = audio || new AudioContext();
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = ok ? 880 : 220; osc.type = ok ? "sine" : "square";
      gain.gain.value = 0.15; osc.connect(gain).connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ok ? 0.12 : 0.4));
    } catch (err) { /* no sound on this device */ }
  }
  function show(kind, headline, detail = "") {
    const box = $("result");
    box.className = `result ${kind}`;
    box.innerHTML = "";
    const h = document.createElement("p"); h.className = "headline"; h.textContent = headline;
    const d = document.createElement("p"); d.className = "detail"; d.textContent = detail;
    box.append(h, d);
    if (kind === "ok" || kind === "refused") beep(kind === "ok");
  }

  // ---- the flow ----
  const state = { location: null, pendingTransfer: null };
  const kind = () => document.querySelector("input[name=kind]:checked").value;
  const quantity = () => $("quantity").value.trim();
  function setLocation(loc) {
    state.location = loc;
    $("location").textContent = loc ? loc.label : "none yet";
  }
  function waitForDestination(item) {
    state.pendingTransfer = item;
    $("destination-row").hidden = !item;
    if (item) $("destination").textContent = `the destination of ${item.product.sku}`;
  }
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

  function scan(raw) {
    const hit = resolve(raw);
    if (hit.type === "unknown") return show("refused", "Unknown code", `${hit.code} is no location or product here.`);
    if (hit.type === "location") {
      if (state.pendingTransfer) {
        const item = state.pendingTransfer; waitForDestination(null);
        if (hit.location.id === state.location.id) return show("refused", "Same location", "Scan another location as the destination.");
        return post({ kind: "transfer", product: item.product.id, from_location: state.location.id, to_location: hit.location.id, quantity: item.quantity },
          `${item.product.sku} ${state.location.label} → ${hit.location.label}`);
      }
      setLocation(hit.location);
      return show("idle", hit.location.label, "Location chosen: now scan products.");
    }
    if (!state.location) return show("refused", "Scan a location first", `${hit.product.sku} was not posted.`);
    const counted = Boolean(hit.gs1) && gs1Count(hit.gs1) && (kind() === "receipt" || kind() === "issue");
    const qty = counted ? "the label's count of" : quantity();
    if (kind() === "count" && !qty) return show("refused", "Type the count", `${hit.product.sku} was not posted: a count needs the quantity counted.`);
    if (!counted && (!/^\d+(\.\d+)?$/.test(qty) || (kind() !== "count" && Number(qty) === 0))) {
      return show("refused", "Check the quantity", `“${qty}” is no quantity.`);
    }
    const what = `${hit.product.sku} at ${state.location.label}`;
    const k = kind();
    if (k === "transfer") {
      waitForDestination({ product: hit.product, quantity: qty });
      return show("idle", `Transfer ${qty} ${hit.product.sku}`, `From ${state.location.label}: scan the destination.`);
    }
    const body = { kind: k, location: state.location.id };
    if (hit.gs1 && (k === "receipt" || k === "issue")) body.gs1 = hit.gs1; else body.product = hit.product.id;
    if (k === "count") body.counted_quantity = qty; else if (!counted) body.quantity = qty;
    post(body, k === "count" ? `counted ${qty} ${what}` : `${qty} ${what}`);
  }

  // ---- posting through the outbox ----
  const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
  async function post(body, label) {
    if (!CAN_POST) return show("refused", "You may not post", "Only clerks post stock movements.");
    const item = { key: uuid(), url: API, body, label, queued_at: new Date().toISOString() };
    await store("outbox", "readwrite", (s) => s.add(item));
    $("quantity").value = defaultQuantity();
    await render();
    live.add(item.key);
    const sent = await flush();
    live.delete(item.key);
    if (!sent.some((r) => r.key === item.key)) show("pending", "Saved, not sent yet", `${label}: pending, sent when the network returns.`);
  }
  async function send(item) {
    const response = await fetch(item.url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(item.body),
    });
    let data = {};
    try { data = await response.json(); } catch (err) { /* an empty body */ }
    return { status: response.status, replayed: response.headers.get("Idempotent-Replayed") === "true", data };
  }
  // Postings being sent as they are made: a refusal of one is shown and is not kept (the clerk is
  // looking at it); a refusal on replay (made offline, sent later) is kept until dismissed.
  const live = new Set();
  // Send the outbox in order, each with its own key, one pass at a time: a pass asked for while
  // another runs follows it, so an item added meanwhile is never left behind.
  let passes = Promise.resolve();
  function flush() {
    const pass = passes.then(doFlush);
    passes = pass.catch(() => {}).then(render);
    return pass;
  }
  async function doFlush() {
    const done = [];
    for (const item of await all("outbox")) {
      let answer;
      try { answer = await send(item); } catch (err) { break; }  // no network: keep it, and what follows
      if (answer.status >= 500 || answer.status === 429) break;  // the server's trouble: try again later
      await store("outbox", "readwrite", (s) => s.delete(item.seq));
      done.push({ key: item.key, answer });
      if (answer.status === 201) {
        addPosting(item, answer);
        show("ok", answer.replayed ? "Already posted" : "Posted", `${item.label} · #${answer.data.position}${balanceText(answer.data)}`);
      } else {
        const detail = answer.data.detail || `Refused (${answer.status}).`;
        if (!live.has(item.key)) await store("refusals", "readwrite", (s) => s.put({ key: item.key, label: item.label, detail, code: answer.data.code || "" }));
        show("refused", refusalHeadline(answer.data.code), `${item.label}: ${detail}`);
      }
    }
    return done;
  }
  const number = (text) => text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  const balanceText = (data) => (data.lot_code ? ` · lot ${data.lot_code}` : "")
    + ((data.balances || []).length ? " · on hand " + data.balances.map((b) => number(b.quantity)).join(" / ") : "");
  const refusalHeadline = (code) => ({ insufficient_stock: "Not enough stock", permission_denied: "You may not post",
    not_authenticated: "Signed out", already_reversed: "Already reversed" }[code] || "Refused");

  // This session's postings (sessionStorage: a new tab starts a new list), each reversible once.
  const postings = () => JSON.parse(sessionStorage.getItem("scan-postings") || "[]");
  function addPosting(item, answer) {
    const list = postings().filter((p) => p.key !== item.key);
    list.unshift({ key: item.key, id: answer.data.id, position: answer.data.position, label: item.label, kind: item.kind || item.body.kind, reversed: false });
    sessionStorage.setItem("scan-postings", JSON.stringify(list.slice(0, 100)));
  }
  async function reverse(posting) {
    const item = { key: uuid(), kind: "reversal", url: `${API}${posting.id}/reverse/`, body: { reason: "scanned by mistake" },
      label: `reversal of #${posting.position} (${posting.label})`, queued_at: new Date().toISOString() };
    const list = postings().map((p) => (p.key === posting.key ? { ...p, reversed: true } : p));
    sessionStorage.setItem("scan-postings", JSON.stringify(list));
    await store("outbox", "readwrite", (s) => s.add(item));
    await flush();
  }

  async function render() {
    const pending = await all("outbox"), refusals = await all("refusals");
    $("pending-count").textContent = String(pending.length);
    $("pending").replaceChildren(...pending.map((item) => {
      const li = document.createElement("li"); li.className = "pending"; li.textContent = `Pending: ${item.label}`; return li;
    }));
    $("refusals").replaceChildren(...refusals.map((r) => {
      const li = document.createElement("li"); li.className = "refused";
      li.textContent = `Refused: ${r.label}: ${r.detail} `;
      const b = document.createElement("button"); b.type = "button"; b.textContent = "Dismiss";
      b.setAttribute("aria-label", `Dismiss the refusal of ${r.label}`);
      b.onclick = async () => { await store("refusals", "readwrite", (s) => s.delete(r.key)); render(); };
      li.append(b); return li;
    }));
    $("postings").replaceChildren(...postings().map((p) => {
      const li = document.createElement("li"); li.textContent = `#${p.position} ${p.kind}: ${p.label} `;
      if (p.kind !== "reversal") {
        const b = document.createElement("button"); b.type = "button"; b.className = "reverse";
        b.textContent = p.reversed ? "Reversed" : "Reverse"; b.disabled = p.reversed;
        b.setAttribute("aria-label", `Reverse #${p.position}`);
        b.onclick = () => reverse(p);
        li.append(b);
      }
      return li;
    }));
    $("network").textContent = navigator.onLine ? "Online" : "Offline: postings wait in the outbox";
    $("network").className = navigator.onLine ? "network" : "network offline";
  }

  // ---- input: the code field, a hand scanner anywhere on the page, the camera ----
  let last = { code: "", at: 0 };
  function accept(raw, source) {
    const code = raw.trim(), now = performance.now();
    if (!code) return;
    if (code === last.code && now - last.at < REPEAT_MS) return;  // the scanner read it twice
    last = { code, at: now };
    root.dataset.lastSource = source;
    scan(code);
  }
  $("manual").addEventListener("submit", (event) => {
    event.preventDefault();
    accept($("code").value, "field"); $("code").value = "";
  });
  // A wedge scanner types the code fast and ends with Enter: keys less than WEDGE_GAP_MS apart,
  // outside the code field, make a scan; slower keys are a person typing and are left alone.
  let burst = { text: "", at: 0 };
  document.addEventListener("keydown", (event) => {
    if (event.target === $("code")) return;
    const now = performance.now(), fast = now - burst.at < WEDGE_GAP_MS;
    if (event.key === "Enter") {
      if (burst.text.length >= 3 && fast) { event.preventDefault(); accept(burst.text, "wedge"); }
      burst = { text: "", at: 0 };
      return;
    }
    if (event.key.length !== 1) return;
    burst = { text: (fast ? burst.text : "") + event.key, at: now };
  }, true);

  let stream = null, timer = null;
  async function startCamera() {
    const video = $("camera");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (err) {
      return show("refused", "No camera", "The browser gave no camera; use the scanner or type the code.");
    }
    video.srcObject = stream; video.hidden = false; await video.play();
    $("camera-toggle").textContent = "Stop camera"; $("camera-toggle").setAttribute("aria-pressed", "true");
    await ZXingWASM.prepareZXingModule({
      overrides: { locateFile: (path, prefix) => (path.endsWith(".wasm") ? root.dataset.wasm : prefix + path) },
      fireImmediately: true,
    });
    const canvas = document.createElement("canvas"), context = canvas.getContext("2d", { willReadFrequently: true });
    const options = { formats: ["EAN-13", "EAN-8", "UPC-A", "UPC-E", "Code128", "DataMatrix", "QRCode"], tryHarder: true, maxNumberOfSymbols: 1, textMode: "Plain" };
    let busy = false;
    timer = setInterval(async () => {
      if (busy || !video.videoWidth) return;
      busy = true;
      try {
        canvas.width = video.videoWidth; canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const found = await ZXingWASM.readBarcodes(context.getImageData(0, 0, canvas.width, canvas.height), options);
        // A GS1 symbol's text is its element string (FNC1 as GS) without the symbology identifier a
        // hand scanner sends in front; put it back so that the camera's scan reads as the scanner's.
        const hit = found.length && found[0].isValid ? found[0] : null;
        if (hit) accept(hit.contentType === "GS1" ? hit.symbologyIdentifier + hit.text : hit.text, "camera");
      } finally { busy = false; }
    }, 250);
  }
  function stopCamera() {
    clearInterval(timer); timer = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null; $("camera").hidden = true;
    $("camera-toggle").textContent = "Start camera"; $("camera-toggle").setAttribute("aria-pressed", "false");
  }
  $("camera-toggle").addEventListener("click", () => (stream ? stopCamera() : startCamera()));

  // ---- quantity and movement kind ----
  const step = (d) => { const q = Math.max(0, (Number($("quantity").value) || 0) + d); $("quantity").value = String(q); };
  $("plus").addEventListener("click", () => step(1));
  $("minus").addEventListener("click", () => step(-1));
  // A movement's quantity starts at 1; a count's is typed each time (a default would set the stock to it).
  const defaultQuantity = () => (kind() === "count" ? "" : "1");
  document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", () => {
    $("quantity-label").textContent = kind() === "count" ? "Counted quantity" : "Quantity";
    $("quantity").value = defaultQuantity();
    waitForDestination(null);
  }));

  $("send-now").addEventListener("click", () => flush());
  window.addEventListener("online", () => { render(); flush(); });
  window.addEventListener("offline", () => render());

  // For the tests (and a curious clerk's console): the outbox as stored, and a way to queue items again.
  window.scanApp = {
    outbox: () => all("outbox"),
    requeue: async (items) => { for (const { seq, ...item } of items) await store("outbox", "readwrite", (s) => s.add(item)); await render(); },
    flush, scan: accept,
  };
  // The service worker (which fetches the decoder's 1 MB .wasm into its cache) only once the page
  // takes scans, so that it never delays them.
  loadCodes().then(render).then(flush).then(() => {
    root.dataset.ready = "true";
    if ("serviceWorker" in navigator) navigator.serviceWorker.register(root.dataset.sw, { scope: "/scan/" }).catch(() => {});
  });
})();
