/* hailong kiosk: a tablet in the reception area that rates one desk.

   - Every rating gets a UUID and the tablet's time, and is written to IndexedDB *before* the
     thank-you screen. Then it is sent to POST /api/v1/responses, now or later: the server
     stores an id once, so a resend whose first answer was lost is not counted twice.
   - Sending retries network errors, 5xx, 429 (and anything unexpected) with exponential
     back-off, on reconnect and on every page load. The API's final refusals (400, 403, 409,
     422) can't succeed later: the rating is dropped, counted for staff and reported in the
     next heartbeat, and the queue moves on. Only an acknowledgement naming the id counts.
   - After a rating the screen stays locked for the cooldown, then resets. Unfinished answers
     are dropped after the idle timeout. Nothing on screen shows what the last person chose.
   - The citizen never sees an error. Staff see the queue after a long press on the top-left
     corner.
   - Spoken prompts: a speaker button on each screen reads it out (question or criterion, then
     each level; the thank-you). The recordings are kept in Cache Storage (the service worker
     serves them from there) and in memory as blobs, so they play offline. With "read out when
     someone approaches", the kiosk waits on a start screen: its touch is the approach, and
     the user gesture browsers require before they play sound. */
(() => {
  'use strict';

  const KEY = {
    token: 'hailong.kiosk.token',
    config: 'hailong.kiosk.config',
    rejected: 'hailong.kiosk.rejected',     // {total, unreported, reason}
  };
  const $ = (id) => document.getElementById(id);

  // The enrolment page hands over the device token, then opens the kiosk.
  const enrolled = $('enrolled');
  if (enrolled) {
    localStorage.setItem(KEY.token, enrolled.dataset.token);
    localStorage.removeItem(KEY.config);
    location.replace(enrolled.dataset.next);
    return;
  }

  const root = document.documentElement;
  const urls = root.dataset;
  const SHELL_LANGS = urls.langs.split(' ');   // the compiled ones, whose texts the shell holds
  // The staff panel's times: 24-hour clock in the screen's language ("17:57:58", never
  // "5:57:58 PM"); a language Intl does not know falls back to the first shell language.
  const timeOfDay = (when) => new Intl.DateTimeFormat(
    SHELL_LANGS.includes(root.lang) ? root.lang : SHELL_LANGS[0],
    {hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'}).format(when);
  const NAMES = {vi: 'Tiếng Việt', en: 'English'};
  let langs = SHELL_LANGS;                      // this kiosk's: Vietnamese first, then its buttons
  const LONG_PRESS = 2000;
  const STAFF_PANEL = 20000;
  const MAX_DELAY = 5 * 60000;

  let token = localStorage.getItem(KEY.token);
  let config = readJson(KEY.config);
  let screen = 'loading';
  let rating = null;            // the answers in progress: {level, answers, step}
  let idleTimer = 0;
  let lockTimer = 0;
  let retryTimer = 0;
  let failures = 0;
  let syncing = false;
  let syncAgain = false;        // a rating arrived while a sync was running
  let updateReady = false;      // a new version is installed: reload when nobody is rating
  let engaged = false;          // someone touched the start screen and is looking at the faces
  const PROMPT_CACHE = 'hailong-prompts';   // shared with the service worker (sw.js)
  const voices = new Map();     // prompt URL -> object URL of its recording, kept in memory
  let speech = 0;               // the current reading; a new one (or a reset) ends it

  function readJson(key) {
    try { return JSON.parse(localStorage.getItem(key)); } catch { return null; }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    node.append(...children);
    return node;
  }

  // One span per language; kiosk.css shows the one that matches <html lang>.
  function texts(labels) {
    return langs.map((lang) => {
      const node = el('span', {class: 't', lang}, labels[lang] || labels[langs[0]] || '');
      node.hidden = lang !== root.lang;
      return node;
    });
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));   // plain-HTTP pages lack randomUUID
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // The tablet's local time with its UTC offset, e.g. 2026-03-02T09:15:02.123+07:00.
  function localTime(date) {
    const offset = -date.getTimezoneOffset();
    const pad = (n) => String(Math.floor(Math.abs(n))).padStart(2, '0');
    const shifted = new Date(date.getTime() + offset * 60000).toISOString().slice(0, 23);
    return `${shifted}${offset < 0 ? '-' : '+'}${pad(offset / 60)}:${pad(offset % 60)}`;
  }

  /* ---- The queue: IndexedDB, one record per rating, keyed by its id ---------------------- */

  const queue = (() => {
    const memory = new Map();   // only if IndexedDB is unavailable: sent while the page lives
    let opening;

    function open() {
      opening = opening || new Promise((resolve, reject) => {
        const request = indexedDB.open('hailong-kiosk', 1);
        request.onupgradeneeded = () => request.result.createObjectStore('queue', {keyPath: 'id'});
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      return opening;
    }

    async function run(mode, action) {
      const db = await open();
      return new Promise((resolve, reject) => {
        // 'strict': resolved only once the record is on disk, so a power cut can't lose it.
        const tx = db.transaction('queue', mode, {durability: 'strict'});
        const request = action(tx.objectStore('queue'));
        tx.oncomplete = () => resolve(request.result);
        tx.onerror = tx.onabort = () => reject(tx.error);
      });
    }

    return {
      add: (item) => run('readwrite', (store) => store.put(item)).catch(() => { memory.set(item.id, item); }),
      remove: (id) => { memory.delete(id); return run('readwrite', (store) => store.delete(id)).catch(() => {}); },
      all: () => run('readonly', (store) => store.getAll()).catch(() => [])
        .then((items) => [...items, ...memory.values()].sort((a, b) => a.created - b.created)),
      count: () => run('readonly', (store) => store.count()).catch(() => 0).then((n) => n + memory.size),
    };
  })();

  /* ---- Talking to the server -------------------------------------------------------------- */

  function request(url, body) {
    const init = {headers: {Authorization: `Bearer ${token}`}, cache: 'no-store'};
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init);
  }

  function unenrolled() {
    token = null;
    config = null;
    localStorage.removeItem(KEY.token);
    localStorage.removeItem(KEY.config);
    reset();
  }

  async function loadConfig() {
    if (!token) return;
    try {
      const response = await request(urls.config);
      if (response.status === 401) return unenrolled();
      if (!response.ok) return;
      const fresh = await response.json();
      localStorage.setItem(KEY.config, JSON.stringify(fresh));
      const waiting = !config;
      config = fresh;
      if (waiting || idle()) reset();
      keepPrompts();
    } catch {
      // Offline: the last good copy keeps the kiosk running.
    }
  }

  async function heartbeat() {
    if (!token) return;
    const rejected = readJson(KEY.rejected) || {total: 0, unreported: 0};
    try {
      const response = await request(urls.heartbeat, {
        queue_length: await queue.count(),
        app_version: urls.version,
        rejected: rejected.unreported,
      });
      if (response.status === 401) return unenrolled();
      if (response.ok) {
        const body = await response.json();
        const skew = Math.round((Date.now() - Date.parse(body.server_time)) / 1000);
        $('st-clock').textContent = String(skew);
        noteRejected(0, -rejected.unreported);
      }
    } catch {
      // Offline: the server will see the gap in "last seen".
    }
  }

  function noteRejected(count, reported, reason) {
    const state = readJson(KEY.rejected) || {total: 0, unreported: 0};
    state.total += count;
    state.unreported = Math.max(0, state.unreported + count + (reported || 0));
    if (reason) state.reason = reason;
    localStorage.setItem(KEY.rejected, JSON.stringify(state));
    showStaffFigures();
  }

  // The API's final refusals: malformed, another desk's, a conflicting id, a time out of range.
  const REFUSED = [400, 403, 409, 422];

  async function sync() {
    if (!token) return;
    if (syncing) {
      syncAgain = true;
      return;
    }
    syncing = true;
    syncAgain = false;
    clearTimeout(retryTimer);
    let retry = false;
    try {
      for (const item of await queue.all()) {
        let response;
        try {
          const body = {
            id: item.id, desk: item.desk, level: item.level, answers: item.answers, client_time: item.client_time,
          };
          if (item.language) body.language = item.language;   // older queued ratings lack these
          if (item.mode) body.mode = item.mode;
          response = await request(urls.responses, body);
        } catch {
          retry = true;   // offline or the network dropped: keep everything for later
          break;
        }
        if (response.status === 401) {
          syncing = false;
          return unenrolled();
        }
        const body = await response.json().catch(() => ({}));
        if (REFUSED.includes(response.status)) {
          // Resending can't help: report it, and don't let it block the others.
          noteRejected(1, 0, `${response.status} ${body.detail || ''}`.trim());
        } else if ((response.status === 201 || response.status === 200) && body.id === item.id) {
          // Created, or a duplicate of an earlier send whose answer was lost: delivered.
          $('st-sent').textContent = timeOfDay(new Date());
        } else {
          // 5xx, 429, or anything unexpected (a proxy, a captive portal): keep it, try later.
          retry = true;
          break;
        }
        await queue.remove(item.id);
      }
    } finally {
      syncing = false;
    }
    failures = retry ? failures + 1 : 0;
    if (retry) {
      const delay = Math.min(MAX_DELAY, 1000 * 2 ** failures) * (0.75 + Math.random() / 2);
      retryTimer = setTimeout(sync, delay);
    } else if (syncAgain) {
      sync();
    }
    showStaffFigures();
  }

  /* ---- Screens ----------------------------------------------------------------------------- */

  function show(name) {
    screen = name;
    for (const section of document.querySelectorAll('.screen')) section.hidden = section.id !== `s-${name}`;
    // A focused or pressed button would show the next person what was chosen.
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
  }

  function idle() {
    return !rating && !engaged && ['attract', 'rate', 'closed', 'loading'].includes(screen);
  }

  /* ---- Spoken prompts ------------------------------------------------------------------------ */

  // Every recording of the configuration, from Cache Storage or the network, kept as a blob URL;
  // recordings no longer in the configuration leave the cache.
  let keeping = Promise.resolve();
  function keepPrompts() {
    keeping = keeping.then(fetchPrompts, fetchPrompts);   // one at a time: no URL fetched twice
    return keeping;
  }

  async function fetchPrompts() {
    if (!config) return;
    const urls = new Set(Object.values(config.prompts || {}).flatMap((keys) => Object.values(keys)));
    let cache = null;
    try { cache = window.caches ? await caches.open(PROMPT_CACHE) : null; } catch { cache = null; }
    if (cache) {
      for (const request of await cache.keys()) {
        if (!urls.has(new URL(request.url).pathname)) cache.delete(request);
      }
    }
    for (const [url, blobUrl] of voices) {
      if (!urls.has(url)) { URL.revokeObjectURL(blobUrl); voices.delete(url); }
    }
    for (const url of urls) {
      if (voices.has(url)) continue;
      try {
        let response = cache && await cache.match(url);
        if (!response) {
          response = await fetch(url);
          if (!response.ok) continue;
          if (cache) await cache.put(url, response.clone());
        }
        voices.set(url, URL.createObjectURL(await response.blob()));
      } catch {
        // Offline before it was ever fetched: that prompt stays silent until the network returns.
      }
    }
    showSpeakers();
  }

  function prompt(key) {
    const url = ((config && config.prompts) || {})[root.lang]?.[key];
    return url && voices.get(url);
  }

  // What a screen reads out, in order: its question, then each face (or the thank-you).
  function screenKeys(name) {
    const levels = config.questionnaire.levels.map((level) => `level.${level.code}`);
    if (name === 'rate') return ['question', ...levels];
    if (name === 'criterion' && rating) return [`criterion.${config.questionnaire.criteria[rating.step].code}`, ...levels];
    if (name === 'thanks') return ['thanks'];
    return [];
  }

  function showSpeakers() {
    for (const button of document.querySelectorAll('.speak')) {
      button.hidden = !config || !screenKeys(button.dataset.screen).some(prompt);
    }
  }

  function hush() {
    speech += 1;
    const voice = $('voice');
    voice.pause();
    delete voice.dataset.key;
    for (const node of document.querySelectorAll('.level.speaking')) node.classList.remove('speaking');
  }

  // Plays the screen's recordings one after the other, outlining each face while it is named.
  async function say(name) {
    hush();
    const reading = speech;
    const voice = $('voice');
    const box = name === 'criterion' ? $('criterion-levels') : $('levels');
    for (const key of screenKeys(name)) {
      const src = prompt(key);
      if (!src) continue;
      const index = config.questionnaire.levels.findIndex((level) => `level.${level.code}` === key);
      const face = index >= 0 ? box.children[index] : null;
      if (face) face.classList.add('speaking');
      voice.dataset.key = key;
      voice.src = src;
      const done = new Promise((resolve) => {
        voice.onended = voice.onerror = voice.onpause = resolve;
      });
      try {
        await voice.play();
        await done;
      } catch {
        // Blocked (no touch yet) or unplayable: stay silent; the speaker button is still there.
      }
      if (face) face.classList.remove('speaking');
      if (reading !== speech) return;
    }
    delete voice.dataset.key;
  }

  function speaks() {
    return Boolean(config && config.settings.speak_on_approach);
  }

  // The touch on the start screen: someone is here. Show the faces and read them out.
  function start() {
    if (screen !== 'attract') return;
    engaged = true;
    show('rate');
    touched();
    say('rate');
  }

  function added(code) {
    return (config && config.languages || []).find((lang) => lang.code === code);
  }

  // Only the texts in `lang` show; an added language's direction applies to the whole page.
  function setLang(lang) {
    root.lang = lang;
    root.dir = (added(lang) && added(lang).dir) || 'ltr';
    // Attributes, not a <style>: the page's Content-Security-Policy allows no inline styles.
    for (const node of document.querySelectorAll('.t')) node.hidden = node.lang !== lang;
    for (const button of $('langs').children) button.setAttribute('aria-pressed', String(button.lang === lang));
  }

  // The shell holds the vi/en texts; an added language's texts come with the configuration
  // (kept offline with it) and go next to them, Vietnamese where the pack has none.
  function addLanguageTexts() {
    for (const node of document.querySelectorAll('.t[data-added]')) node.remove();
    for (const lang of (config.languages || []).filter((l) => l.texts)) {
      for (const source of document.querySelectorAll(`.t[lang="${SHELL_LANGS[0]}"][data-k]`)) {
        const text = lang.texts[source.dataset.k] || source.textContent;
        const node = el('span', {class: 't', lang: lang.code, 'data-k': source.dataset.k, 'data-added': ''}, text);
        node.hidden = lang.code !== root.lang;
        source.after(node);
      }
    }
  }

  // At most four buttons (Vietnamese and three others), each named in its own language.
  function languageButtons() {
    const nav = $('langs');
    nav.replaceChildren(...langs.map((code) => {
      const button = el('button', {type: 'button', class: 'lang', lang: code, id: `lang-${code}`},
        NAMES[code] || (added(code) && added(code).name) || code);
      button.addEventListener('click', () => {
        setLang(code);
        showSpeakers();
        if (screen === 'attract') return start();
        if (config && screen !== 'thanks' && screen !== 'saving') touched();
        if (speaks() && (screen === 'rate' || screen === 'criterion')) say(screen);
        else hush();
      });
      return button;
    }));
    nav.hidden = langs.length < 2;
  }

  function isOpen() {
    if (!config.desk.active) return false;
    const settings = config.settings;
    const local = new Date(Date.now() + settings.utc_offset_minutes * 60000);
    const span = settings.hours[(local.getUTCDay() + 6) % 7];
    const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
    return Boolean(span) && span[0] <= minute && minute < span[1];
  }

  function svg(tag, attrs) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    return node;
  }

  // How happy a level's face looks, from 1 (broad smile) to -1 (frown). Levels come best
  // first; the satisfied ones smile (1 to 0.5), the others go from flat (0) to a frown (-1).
  function moods(levels) {
    const happy = levels.filter((level) => level.satisfied).length;
    const unhappy = levels.length - happy;
    return levels.map((level, i) => (level.satisfied
      ? 1 - (happy > 1 ? 0.5 * i / (happy - 1) : 0)
      : (unhappy > 1 ? -(i - happy) / (unhappy - 1) : -1)));
  }

  // A face drawn as SVG: it needs no emoji font, which many tablets and touch screens lack.
  function face(mood) {
    const mouth = `M28 ${68 - 8 * mood} Q50 ${68 + 18 * mood} 72 ${68 - 8 * mood}`;
    const icon = svg('svg', {viewBox: '0 0 100 100', class: 'face', 'aria-hidden': 'true', focusable: 'false'});
    icon.append(
      svg('circle', {cx: 50, cy: 50, r: 46, fill: `hsl(${Math.round(60 + 60 * mood)},70%,55%)`, stroke: '#1a1a1a', 'stroke-width': 4}),
      svg('circle', {cx: 35, cy: 40, r: 6, fill: '#1a1a1a'}),
      svg('circle', {cx: 65, cy: 40, r: 6, fill: '#1a1a1a'}),
      svg('path', {d: mouth, fill: 'none', stroke: '#1a1a1a', 'stroke-width': 6, 'stroke-linecap': 'round'}));
    return icon;
  }

  function levelButtons(box, onPick) {
    const levels = config.questionnaire.levels;
    const mood = moods(levels);
    box.replaceChildren(...levels.map((level, index) => {
      const button = el('button', {type: 'button', class: 'level'},
        face(mood[index]),
        el('span', {class: 'label'}, ...texts(level.label)));
      button.addEventListener('click', () => onPick(level.code));
      return button;
    }));
  }

  function clock(minutes) {
    const m = minutes === 1440 ? 1439 : minutes;
    return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  }

  function render() {
    langs = [SHELL_LANGS[0], ...(config.languages || []).map((lang) => lang.code)].slice(0, 4);
    document.body.classList.toggle('faces-only', Boolean(config.settings.faces_only));
    addLanguageTexts();
    languageButtons();
    $('agency').replaceChildren(...texts(config.desk.agency));
    $('desk').textContent = config.desk.name;
    levelButtons($('levels'), pickLevel);
    levelButtons($('criterion-levels'), pickCriterion);
    const monday = Date.UTC(2024, 0, 1);
    $('hours').replaceChildren(...config.settings.hours.map((span, i) => {
      const day = new Date(monday + i * 86400000);
      const names = Object.fromEntries(langs.map((lang) => [lang,
        new Intl.DateTimeFormat(SHELL_LANGS.includes(lang) ? lang : SHELL_LANGS[0], {weekday: 'long', timeZone: 'UTC'}).format(day)]));
      const time = span ? `${clock(span[0])}–${clock(span[1])}` : $('closed-day').content.cloneNode(true);
      return el('li', {}, el('span', {}, ...texts(names)), el('span', {}, time));
    }));
  }

  // Back to the start for the next person: default language, nothing chosen, fresh buttons.
  function reset() {
    clearTimeout(idleTimer);
    clearTimeout(lockTimer);
    rating = null;
    engaged = false;
    hush();
    if (updateReady) {
      location.reload();
      return;
    }
    if (!token) return show('enrol');
    if (!config) return show('loading');
    render();
    setLang(langs[0]);
    show(isOpen() ? (speaks() ? 'attract' : 'rate') : 'closed');
    showSpeakers();
  }

  function touched() {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(reset, config.settings.idle_seconds * 1000);
  }

  function pickLevel(level) {
    if (screen !== 'rate') return;
    hush();
    if (!isOpen()) return reset();
    rating = {level, answers: {}, step: 0};
    nextStep();
  }

  function pickCriterion(level) {
    if (screen !== 'criterion' || !rating) return;
    hush();
    rating.answers[config.questionnaire.criteria[rating.step].code] = level;
    rating.step += 1;
    nextStep();
  }

  function skip() {
    if (screen !== 'criterion' || !rating) return;
    hush();
    rating.step += 1;
    nextStep();
  }

  function nextStep() {
    const criterion = config.questionnaire.criteria[rating.step];
    if (!criterion) return finish();
    $('criterion').replaceChildren(...texts(criterion.label));
    show('criterion');
    showSpeakers();
    touched();
    if (speaks()) say('criterion');
  }

  async function finish() {
    clearTimeout(idleTimer);
    const done = rating;
    rating = null;
    screen = 'saving';   // taps do nothing until the lock is over
    const now = new Date();
    await queue.add({
      id: uuid(),
      desk: config.desk.code,
      level: done.level,
      answers: done.answers,
      language: root.lang,
      mode: config.settings.faces_only ? 'faces' : 'standard',
      client_time: localTime(now),
      created: now.getTime(),
    });
    show('thanks');
    showSpeakers();
    if (speaks()) say('thanks');
    lockTimer = setTimeout(reset, config.settings.cooldown_seconds * 1000);
    showStaffFigures();
    if (navigator.onLine) sync();
  }

  /* ---- Staff panel -------------------------------------------------------------------------- */

  let staffTimer = 0;

  async function showStaffFigures() {
    const count = await queue.count();
    const rejected = readJson(KEY.rejected) || {total: 0};
    $('staff').dataset.queue = String(count);
    $('st-queue').textContent = String(count);
    $('st-rejected').textContent = String(rejected.total);
    $('st-reason').textContent = rejected.reason || '';
  }

  function openStaff() {
    showStaffFigures();
    $('staff').hidden = false;
    clearTimeout(staffTimer);
    staffTimer = setTimeout(() => { $('staff').hidden = true; }, STAFF_PANEL);
  }

  function listenForLongPress() {
    const corner = $('corner');
    let pressTimer = 0;
    corner.addEventListener('pointerdown', () => { pressTimer = setTimeout(openStaff, LONG_PRESS); });
    for (const type of ['pointerup', 'pointerleave', 'pointercancel']) {
      corner.addEventListener(type, () => clearTimeout(pressTimer));
    }
    corner.addEventListener('contextmenu', (event) => event.preventDefault());
  }

  /* ---- Start ---------------------------------------------------------------------------------- */

  $('skip').addEventListener('click', skip);
  $('start').addEventListener('click', start);
  for (const button of document.querySelectorAll('.speak')) {
    button.addEventListener('click', () => {
      if (screen === 'rate' || screen === 'criterion') touched();
      say(button.dataset.screen);
    });
  }
  $('st-sync').addEventListener('click', () => { failures = 0; sync(); });
  $('st-full').addEventListener('click', () => {
    if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  });
  $('st-close').addEventListener('click', () => { $('staff').hidden = true; });
  listenForLongPress();

  addEventListener('online', () => {
    failures = 0;
    sync();
    heartbeat();
    loadConfig();
  });

  if ('serviceWorker' in navigator) {
    const hadWorker = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.register(urls.sw, {scope: urls.scope}).catch(() => {});
    navigator.serviceWorker.addEventListener('controllerchange', () => { updateReady = hadWorker; });
  }

  reset();
  showStaffFigures();
  if (config) keepPrompts();   // the last good configuration's recordings, also offline
  if (token) {
    loadConfig().then(heartbeat);
    sync();
  }
  setInterval(() => {   // opening hours and a pending update, while nobody is rating
    if (config && idle() && (updateReady || (screen === 'rate' || screen === 'attract') !== isOpen())) reset();
  }, 15000);
  setInterval(heartbeat, 60000);
  setInterval(() => {
    loadConfig();
    navigator.serviceWorker?.getRegistration(urls.scope).then((reg) => reg?.update()).catch(() => {});
  }, 5 * 60000);
})();
