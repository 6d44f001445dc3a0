/* kepuscreen player: plays this screen's manifest, offline-first. Plain JS, no build step.
 * Set up once with index.html?screen=<id>#key=<player key> (the fragment never leaves the browser; ?key= is
 * accepted too); both are remembered in localStorage and the key leaves the address bar at once.
 * Optional: poll=<s> (manifest poll), hb=<s> (heartbeat), flush=<s> (proof-of-play upload),
 * dwell=<s> (minimum time on screen before fresh content may cut in, default 5). */
(function () {
  "use strict";
  var VERSION = "dev-build";
  var CST = 8 * 3600e3; // weekly windows and the clock are China Standard Time
  var KINDS = { notice: "通知公告", article: "科普文章", image: "图片", video: "视频", link: "网页" };
  var CATS = { frontier: "前沿科技", hotspot: "科普热点", everyday: "生活百科", community_notice: "社区公告",
    service_guide: "办事指南", community_news: "社区动态" };
  var WEEK = "日一二三四五六";
  var MAX_QUEUE = 20000, BATCH = 100, MEDIA_CACHE = "kepu-media";

  var q = new URLSearchParams(location.search), h = new URLSearchParams(location.hash.slice(1));
  // preview=1: the console's mirror of a screen (no reports, nothing kept); preview=message: plays a
  // manifest the console's editor posts (same origin only). Neither ever holds a player key.
  var PREVIEW = q.get("preview");
  var memory = {};
  var store = PREVIEW ? { getItem: function (k) { return k in memory ? memory[k] : null; },
    setItem: function (k, v) { memory[k] = String(v); } } : window.localStorage;
  function saved(k) { try { return store.getItem("kepu." + k); } catch (e) { return null; } }
  function save(k, v) { try { store.setItem("kepu." + k, v); } catch (e) { /* full: keep running */ } }
  ["screen", "key", "poll", "hb", "flush", "dwell"].forEach(function (k) {
    var v = h.get(k) || q.get(k); if (v) save(k, v);
  });
  var SCREEN = saved("screen"), KEY = PREVIEW ? null : saved("key");
  if ((q.get("key") || h.get("key")) && history.replaceState) { // the key leaves the address bar before any request
    q.delete("key"); q.set("screen", SCREEN);
    history.replaceState(null, "", location.pathname + "?" + q.toString());
  }
  var manifestUrl = SCREEN ? new URL("../screens/" + encodeURIComponent(SCREEN) + "/manifest.json", location.href).href : null;
  var bootAt = Date.now();

  var M = null, fresh = [], pending = null, cur = null, timer = null, lastNormal = null, online = true, flushing = false;
  var shown = {}, pollTimer = null, polling = false; // shown: content ids played since the page loaded
  var open = null; // ids of the normal items playable at the last tick: a window that opens is fresh content
  var MANIFEST_CACHE = "kepu-manifest";
  var etag = saved("etag." + SCREEN);
  var $ = function (id) { return document.getElementById(id); };
  var stage = $("stage");

  function now() { return Date.now(); }
  function seconds(name, dflt) { var v = parseFloat(saved(name)); return v > 0 ? v : dflt; }
  function pollSec() { return seconds("poll", (M && M.poll_seconds) || 10); }
  function hbSec() { return seconds("hb", (M && M.heartbeat_seconds) || 30); }
  function flushSec() { return seconds("flush", 20); }
  function dwellSec() { return seconds("dwell", 5); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function uid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16); crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /* ---------- time rules: validity and weekly windows, on the player's own clock ---------- */
  function hm(s) { var p = String(s || "0:0").split(":"); return (+p[0]) * 60 + (+p[1] || 0); }
  function inWindows(item, t) {
    var ws = item.weekly_windows;
    if (!ws || !ws.length) return true;
    var d = new Date(t + CST), day = d.getUTCDay() || 7, min = d.getUTCHours() * 60 + d.getUTCMinutes();
    var prev = day === 1 ? 7 : day - 1;
    return ws.some(function (w) {
      var s = hm(w.start), e = hm(w.end), days = w.days || [1, 2, 3, 4, 5, 6, 7];
      if (s < e) return days.indexOf(day) >= 0 && min >= s && min < e;
      return (days.indexOf(day) >= 0 && min >= s) || (days.indexOf(prev) >= 0 && min < e); // overnight
    });
  }
  function playable(item, t) {
    if (item.valid_from && t < Date.parse(item.valid_from)) return false;
    if (item.valid_until && t >= Date.parse(item.valid_until)) return false;
    if (item.priority === "urgent" && item.urgent_until && t >= Date.parse(item.urgent_until)) return false;
    if (item.kind === "link" && !online) return false; // a dead frame would show an error page
    if ((item.kind === "image" || item.kind === "video") && !(item.media && item.media.length)) return false;
    return inWindows(item, t);
  }
  function items() { return (M && M.items) || []; }
  function urgentNow(t) {
    var u = items().filter(function (i) { return i.priority === "urgent" && playable(i, t); });
    if (!u.length) return null;
    var at = cur && cur.item ? u.indexOf(find(u, cur.item.content_id)) : -1;
    if (at >= 0 && now() - cur.started < cur.item.duration * 1000) return u[at]; // still its turn
    return u[(at + 1) % u.length]; // several urgent notices take turns
  }
  function find(list, id) { for (var i = 0; i < list.length; i++) if (list[i].content_id === id) return list[i]; return null; }
  function nextNormal(t) {
    var n = items().filter(function (i) { return i.priority !== "urgent"; });
    while (fresh.length) { // newly published items go first, once
      var f = find(n, fresh.shift());
      if (f && playable(f, t)) return f; // the loop resumes where it was afterwards
    }
    var start = 0;
    for (var i = 0; i < n.length; i++) if (n[i].content_id === lastNormal) start = i + 1;
    for (var k = 0; k < n.length; k++) {
      var it = n[(start + k) % n.length];
      if (playable(it, t)) { lastNormal = it.content_id; return it; }
    }
    return null;
  }

  /* ---------- rendering ---------- */
  function place(node, idle) {
    var old = stage.querySelectorAll(".slide");
    for (var i = 0; i < old.length; i++) {
      if (old[i].classList.contains("out")) { old[i].remove(); continue; }
      old[i].classList.add("out");
      old[i].addEventListener("animationend", function (e) { e.target.remove(); });
      var v = old[i].querySelector("video"); if (v) v.pause();
    }
    stage.appendChild(node);
    document.body.classList.toggle("is-idle", !!idle);
  }
  function label(item) { return item.priority === "urgent" ? "紧急通知" : CATS[item.category] || KINDS[item.kind] || "科普"; }
  function meta(item) { // one line: a long unit name ends in an ellipsis, the date always shows
    var d = item.published_at ? new Date(Date.parse(item.published_at) + CST) : null, m = el("div", "meta");
    m.appendChild(el("span", "who", item.unit_name || ""));
    if (d) m.appendChild(el("span", "when", "发布于 " + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日"));
    return m;
  }
  function render(item) {
    var s = el("section", "slide " + item.kind + (item.priority === "urgent" ? " urgent" : ""));
    s.dataset.content = item.content_id;
    var m = (item.media && item.media[0]) || null;
    if (item.kind === "image" || item.kind === "video") {
      s.classList.add("media");
      var x = el(item.kind === "image" ? "img" : "video");
      if (item.kind === "video") {
        x.muted = true; x.autoplay = true; x.playsInline = true; x.setAttribute("muted", "");
        x.addEventListener("ended", function () { if (cur && cur.node === s) advance(); });
        x.addEventListener("error", function () { if (cur && cur.node === s) schedule(2); });
      } else x.alt = item.title;
      x.src = m.url;
      s.appendChild(x);
      s.appendChild(el("div", "caption", item.title));
    } else if (item.kind === "link") {
      var f = el("iframe");
      f.setAttribute("sandbox", "allow-scripts");
      f.setAttribute("referrerpolicy", "no-referrer");
      f.src = item.link_url;
      s.appendChild(f);
      s.appendChild(el("div", "caption", item.title));
    } else {
      s.appendChild(el("div", "tag", label(item)));
      s.appendChild(el("h1", null, item.title));
      var wrap = el("div", "body-wrap"), body;
      if (item.kind === "article") {
        body = el("div", "body scroller");
        body.innerHTML = item.body || ""; // sanitised by the manifest builder (nh3)
      } else body = el("div", "text scroller", item.body || item.summary || "");
      wrap.appendChild(body); s.appendChild(wrap);
      s.appendChild(meta(item));
    }
    return s;
  }
  /* Text longer than the stage scrolls, driven by the page clock (so it pauses and resumes with it): it
   * holds a moment, scrolls no faster than one line per LINE_S seconds, and holds its end. The item stays
   * on screen until its end has been readable: text is never cut silently. Returns the seconds it needs. */
  var LINE_S = 2.5, HOLD_S = 3, scrollFrame = null;
  function fitText(s, item) {
    cancelAnimationFrame(scrollFrame);
    var body = s.querySelector(".scroller");
    if (!body) return item.duration;
    var wrap = body.parentNode, over = body.scrollHeight - wrap.clientHeight;
    if (over <= 1) return item.duration;
    var line = parseFloat(getComputedStyle(body).lineHeight) || 40;
    var hold = Math.min(HOLD_S, item.duration * 0.15);
    var run = Math.max(item.duration - 2 * hold, over / line * LINE_S);
    wrap.classList.add("more");
    var frame = function () {
      if (!cur || cur.node !== s) return;
      var k = Math.min(1, Math.max(0, ((now() - cur.started) / 1000 - hold) / run));
      body.style.transform = "translateY(" + (-over * k).toFixed(1) + "px)";
      wrap.classList.toggle("more", k < 1);
      wrap.classList.toggle("past", k > 0);
      if (k < 1) scrollFrame = requestAnimationFrame(frame);
    };
    scrollFrame = requestAnimationFrame(frame);
    return Math.ceil(2 * hold + run);
  }
  function idleSlide() {
    var s = el("section", "slide idle");
    s.appendChild(el("div", "big", M && M.screen ? M.screen.unit_name || "科普阅读屏" : "科普阅读屏"));
    s.appendChild(el("div", "sub", M && M.screen ? M.screen.name : SCREEN ? "正在载入节目…" : "请在地址中设置 screen 和 key"));
    if (M && M.qr) {
      var qr = el("div", "qr"); qr.innerHTML = M.qr.svg; s.appendChild(qr);
      s.appendChild(el("div", "sub", M.qr.caption || "微信扫码 订阅本屏"));
      s.appendChild(el("div", "sub", "已有 " + (M.fan_count || 0) + " 位居民订阅"));
    }
    return s;
  }
  function chrome() {
    if (!M) return;
    $("unit-name").textContent = M.screen.unit_name || "科普阅读屏";
    $("screen-name").textContent = M.screen.name || "";
    $("qr").innerHTML = M.qr ? M.qr.svg : "";
    $("fans").innerHTML = "";
    $("fans").append("已有 ", el("b", null, String(M.fan_count || 0)), " 人订阅");
    ticker();
  }
  function ticker() {
    var t = now(), notes = items().filter(function (i) { return i.kind === "notice" && playable(i, t); });
    var text = notes.map(function (i) { return (i.priority === "urgent" ? "【紧急】" : "") + i.title; }).join("　　◆　　");
    $("ticker-label").textContent = text ? "通知" : "欢迎";
    if (!text) text = "欢迎来到" + ((M && M.screen.name) || "科普阅读屏") + "　·　微信扫码订阅本屏，屏上的新内容会同步推送到您的手机";
    var span = $("ticker-text");
    if (span.textContent !== text) {
      span.textContent = text;
      span.style.setProperty("--ticker-s", Math.max(15, text.length * 0.35) + "s");
    }
  }
  function clock() {
    var d = new Date(now() + CST), p = function (n) { return (n < 10 ? "0" : "") + n; };
    $("time").textContent = p(d.getUTCHours()) + ":" + p(d.getUTCMinutes());
    $("date").textContent = (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 星期" + WEEK[d.getUTCDay()];
  }

  /* ---------- the loop ---------- */
  function schedule(sec) { clearTimeout(timer); timer = setTimeout(advance, sec * 1000); }
  function endPlay() {
    if (!cur || !cur.item) return;
    var secs = (now() - cur.started) / 1000;
    if (secs >= 1) queuePlay({ play_id: uid(), content_id: cur.item.content_id,
      started_at: new Date(cur.started).toISOString(), seconds: Math.round(secs * 10) / 10 });
  }
  function advance() {
    endPlay();
    if (pending) { apply(pending); pending = null; }
    pick();
  }
  function pick() {
    var t = now(), item = urgentNow(t) || nextNormal(t);
    clearTimeout(timer);
    try {
      if (!item) return idle();
      var same = cur && cur.item && cur.item.content_id === item.content_id && cur.json === JSON.stringify(item);
      if (!same || item.kind === "video") {
        var node = render(item);
        place(node, false);
        cur = { item: item, node: node, json: JSON.stringify(item) };
      }
      cur.started = t;
      shown[item.content_id] = 1;
      document.body.dataset.playing = item.content_id;
      var secs = item.kind === "video" ? Math.max(item.duration, 600) : fitText(cur.node, item); // a video ends itself
      cur.until = t + secs * 1000;
      schedule(secs);
    } catch (e) {
      idle();
    }
  }
  function idle() {
    ticker();
    if (!cur || cur.item || cur.version !== (M && M.version)) {
      place(idleSlide(), true);
      cur = { item: null, version: M && M.version };
    }
    document.body.dataset.playing = "idle";
  }
  function openNow(t) {
    var ids = {};
    items().forEach(function (i) { if (i.priority !== "urgent" && playable(i, t)) ids[i.content_id] = 1; });
    return ids;
  }
  function opening(t) { // normal items whose validity or weekly window opened since the last tick
    var ids = openNow(t), was = open;
    open = ids;
    return was ? Object.keys(ids).filter(function (id) { return !was[id]; }) : [];
  }
  function tick() {
    clock();
    ticker();
    var t = now(), opened = opening(t);
    if (!cur || !cur.item) { if (items().some(function (i) { return playable(i, t); })) pick(); return; }
    var u = urgentNow(t);
    var mustGo = !playable(cur.item, t) || (u && cur.item.priority !== "urgent");
    if (mustGo) { endPlay(); pick(); return; }
    opened = opened.filter(function (id) { return fresh.indexOf(id) < 0 && id !== cur.item.content_id; });
    if (opened.length) { fresh = fresh.concat(opened); softCut(); } // like fresh content: a soft boundary
  }

  /* ---------- manifest: poll, apply, cache ---------- */
  function urgentKey(m) {
    return JSON.stringify(((m && m.items) || []).filter(function (i) { return i.priority === "urgent"; }));
  }
  function isNew(m) { // normal items in m that the applied manifest lacks and this player never showed
    var t = now();
    return m.items.filter(function (i) {
      return i.priority !== "urgent" && !shown[i.content_id] && !find(M.items, i.content_id) && playable(i, t);
    });
  }
  function softCut() { // end the current normal item early, but not before it has had its minimum dwell
    if (!cur || !cur.item || cur.item.priority === "urgent") return;
    var at = Math.max(cur.started + dwellSec() * 1000, now());
    if (at < cur.until) { cur.until = at; schedule((at - now()) / 1000); }
  }
  function apply(m) {
    if (M) { // newly published items play next, once (kept across versions until they had their turn)
      var keep = fresh.filter(function (id) { return find(m.items, id); });
      fresh = keep.concat(m.items.filter(function (i) {
        return !find(M.items, i.content_id) && keep.indexOf(i.content_id) < 0;
      }).map(function (i) { return i.content_id; }));
    }
    M = m;
    open = openNow(now()); // items new in this version are handled above, not as windows opening
    document.body.dataset.version = m.version;
    chrome();
    cacheMedia(m);
  }
  function receive(m) {
    save("manifest." + SCREEN, JSON.stringify(m));
    if (M && m.version === M.version) return;
    var atOnce = !M || !cur || !cur.item || urgentKey(M) !== urgentKey(m);
    if (atOnce) { pending = null; var had = cur && cur.item; apply(m); if (had) endPlay(); pick(); }
    else { pending = m; if (isNew(m).length) softCut(); } // other changes wait for the item boundary
  }
  function setOnline(v) { online = v; $("status").hidden = v; }
  function poll() { // one chain of polls; an extra call (tab visible, back online) polls now and restarts it
    if (!manifestUrl || polling || PREVIEW === "message") return;
    polling = true;
    clearTimeout(pollTimer);
    var headers = etag ? { "If-None-Match": etag } : {};
    var ctl = window.AbortController ? new AbortController() : null, stuck = setTimeout(function () {
      if (ctl) ctl.abort(); // a half-open connection must not stop the polling
    }, 30000);
    fetch(manifestUrl, { cache: "no-store", headers: headers, signal: ctl && ctl.signal }).then(function (r) {
      setOnline(!r.headers.get("X-From-Cache"));
      if (r.status === 304) { if (M) keepManifest(M, etag, false); return null; }
      if (!r.ok) { if (r.status === 404 && !M) idle(); return null; }
      var tag = r.headers.get("ETag");
      return r.json().then(function (m) {
        if (!m || !Array.isArray(m.items)) return;
        if (tag) { etag = tag; save("etag." + SCREEN, tag); }
        keepManifest(m, tag, true);
        receive(m);
      });
    }).catch(function () { setOnline(false); }).then(function () {
      clearTimeout(stuck);
      polling = false;
      pollTimer = setTimeout(poll, pollSec() * 1000);
    });
  }
  /* The service worker answers offline manifest requests from this cache. It cannot fill it from a 304,
   * and the page's first request may precede the worker, so the page stores every manifest it holds. */
  function keepManifest(m, tag, replace) {
    if (!window.caches || !manifestUrl) return;
    caches.open(MANIFEST_CACHE).then(function (c) {
      return (replace ? Promise.resolve(null) : c.match(manifestUrl)).then(function (hit) {
        if (hit) return;
        var headers = { "Content-Type": "application/json" };
        if (tag) headers.ETag = tag;
        return c.put(manifestUrl, new Response(JSON.stringify(m), { status: 200, headers: headers }));
      });
    }).catch(function () {});
  }
  function cacheMedia(m) {
    if (!window.caches) return;
    var urls = [];
    m.items.forEach(function (i) { (i.media || []).forEach(function (x) { urls.push(x.url); }); });
    caches.open(MEDIA_CACHE).then(function (c) {
      urls.forEach(function (u) {
        c.match(u).then(function (hit) { if (!hit) c.add(u).catch(function () {}); });
      });
      c.keys().then(function (keys) { // drop media no manifest item needs any more
        keys.forEach(function (k) { if (urls.indexOf(k.url) < 0) c.delete(k); });
      });
    }).catch(function () {});
  }

  /* ---------- reports: heartbeat and proof of play ---------- */
  /* A CORS "simple request" (POST, text/plain, no custom header) needs no preflight: the key travels in the
   * body ({"player_key": …, …}), never in a URL, so one report is one request. */
  function api(path, body) {
    var payload = { player_key: KEY };
    for (var k in body) payload[k] = body[k];
    return fetch(M.api_base + "/screens/" + encodeURIComponent(SCREEN) + path, {
      method: "POST", cache: "no-store", credentials: "omit",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(payload)
    });
  }
  function queue() { try { return JSON.parse(saved("plays") || "[]"); } catch (e) { return []; } }
  function queuePlay(p) {
    var list = queue(); list.push(p);
    if (list.length > MAX_QUEUE) list = list.slice(list.length - MAX_QUEUE);
    save("plays", JSON.stringify(list));
  }
  function flush() {
    var list = queue();
    if (flushing || !list.length || !M || !KEY) return Promise.resolve();
    flushing = true;
    var batch = list.slice(0, BATCH), sent = {};
    batch.forEach(function (p) { sent[p.play_id] = 1; });
    return api("/plays", { plays: batch }).then(function (r) {
      // 200: counted (or already counted); 400/413: never acceptable, drop. Anything else: keep and retry.
      if (r.ok || r.status === 400 || r.status === 413) {
        save("plays", JSON.stringify(queue().filter(function (p) { return !sent[p.play_id]; })));
        if (r.ok && list.length > BATCH) setTimeout(flush, 1000);
      }
    }).catch(function () {}).then(function () { flushing = false; });
  }
  function heartbeat() {
    if (M && KEY) {
      api("/heartbeat", {
        manifest_version: M.version, playing: document.body.dataset.playing || null,
        uptime_seconds: Math.round((Date.now() - bootAt) / 1000), player_version: VERSION,
        screen_width: window.innerWidth, screen_height: window.innerHeight, online: online,
        queued_plays: queue().length
      }).catch(function () {});
    }
    setTimeout(heartbeat, hbSec() * 1000);
  }
  function flushLoop() { flush(); setTimeout(flushLoop, flushSec() * 1000); }

  /* ---------- start ---------- */
  window.addEventListener("error", function () { if (!stage.querySelector(".slide")) idle(); });
  if (PREVIEW === "message") window.addEventListener("message", function (e) {
    if (e.origin === location.origin && e.data && e.data.kepuManifest) { M = null; receive(e.data.kepuManifest); }
  });
  if (!PREVIEW && "serviceWorker" in navigator) navigator.serviceWorker.register("sw.js").catch(function () {});
  clock();
  try { var last = JSON.parse(saved("manifest." + SCREEN) || "null"); if (last && last.items) apply(last); }
  catch (e) { /* no usable copy */ }
  if (!M) etag = null; // a 304 is only useful with the manifest it refers to
  pick();
  setInterval(tick, 1000);
  poll();
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
  window.addEventListener("online", poll);
  setTimeout(heartbeat, 2000);
  setTimeout(flushLoop, 5000);
  window.kepuPlayer = { flush: flush, poll: poll, queue: queue, version: VERSION };
})();
