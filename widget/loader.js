// EdgeChat loader: the launcher in a Shadow DOM, themed from the site's
// config, and the `EdgeChat(…)` JavaScript API (README "JavaScript API").
// The widget loads when the panel first opens. Before the visitor interacts
// it writes no storage and asks only for the config and, unless the config
// says the site has no proactive rules, for nudges. `cargo xtask build`
// minifies it with esbuild; `cargo xtask bench` checks its 2 KB gzip budget.
((w, d) => {
  const s = d.currentScript;
  if (!s || w.EdgeChat?.l) return;
  const { siteKey: key, locale = navigator.language } = s.dataset;
  const base = new URL(s.src).origin;
  const q = encodeURIComponent;
  const chat = base + '/api/v1/chat/';
  const site = '?site_key=' + q(key);
  // The page's calls made before the loader came, run once the config answered.
  const early = w.EdgeChat?.q || [];
  // The widget's commands (identify, reset, login, logout, setLocale) in
  // order; the widget takes over `push` once mounted (widget/src/lib.rs).
  let commands = [];
  // Every widget command so far, for a module mounted later: the `app`
  // build (signed-in users' requests) replaces the anonymous one on `login`.
  const log = [];
  let signedIn;
  const handlers = {};
  let ready, open = 0, want, unread = 0, loading, locked;

  const el = d.createElement('edgechat-root');
  const root = el.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  // The launcher and the nudge beside it, docked in the page's corner (the
  // custom properties come from the config, below). Nothing moves, so
  // `prefers-reduced-motion` has nothing to stop.
  sheet.replaceSync(
    ':host{all:initial}:host([hidden]){display:none}' +
    '.ec-dock{position:fixed;right:var(--ec-x);bottom:var(--ec-y);z-index:999999999;display:flex;align-items:center;gap:12px;' +
    'font:14px system-ui}:host([data-side=left]) .ec-dock{right:auto;left:var(--ec-x);flex-direction:row-reverse}' +
    '.ec-dock>*{box-shadow:0 6px 20px #0003}' +
    '.ec-launcher{position:relative;width:56px;height:56px;border:0;border-radius:50%;background:var(--ec-accent);color:var(--ec-on-accent)}' +
    '.ec-launcher:focus-visible{outline:3px solid #111827;outline-offset:2px;box-shadow:0 0 0 2px #fff}' +
    '.ec-badge{position:absolute;top:-4px;right:-4px;min-width:20px;border-radius:10px;' +
    'background:#dc2626;color:#fff}' +
    '.ec-nudge{max-width:240px;padding:10px 14px;border-radius:14px;background:#fff;color:#111827}'
  );
  root.adoptedStyleSheets = [sheet];
  // The panel's container (the widget mounts into it), then the dock.
  root.innerHTML =
    '<div id=ec-panel hidden></div><div class=ec-dock><div class=ec-nudge hidden></div>' +
    '<button class=ec-launcher aria-controls=ec-panel><svg width=26 height=26 fill=currentColor><path d="M3 4h20v14H9l-6 5z"/></svg>' +
    '<span class=ec-badge hidden></span></button></div>';
  const [slot, { children: [nudge, button] }] = root.children;
  const badge = button.lastChild;
  nudge.onclick = button.onclick = () => toggle(!open);

  // The launcher's accessible name in the page's language (en, de, es:
  // "Chat"). It names the button, not its state: `aria-expanded` says
  // whether the panel is open (the ARIA APG disclosure pattern).
  const names = { fr: 'Discussion', ar: 'الدردشة' };
  // What the widget reads through `host` (widget/src/host.rs).
  const host = {
    locale,
    emit(name, detail) {
      fire(name, detail);
      if (name == 'message' && !open) count(unread + 1);
    },
    close: () => toggle(),
    upgrade: () => (loading = load(1)),
  };
  // Imports a widget build (`app`: the signed-in users' one) and mounts it
  // with every command so far.
  const load = (app) =>
    import(base + '/widget/edgechat' + (app ? '-app-' : '-') + '__WIDGET_HASH__.js').then((m) =>
      m.mount(root, slot, key, base, (commands = [...log]), host));
  // A page handler that throws is reported and stops nothing here.
  const call = (f, detail) => {
    try {
      f(detail);
    } catch (e) {
      reportError(e);
    }
  };
  const fire = (name, detail) => handlers[name]?.map((f) => call(f, detail));
  const count = (n) => {
    if (n != unread) {
      badge.hidden = !(unread = n);
      badge.textContent = n;
      fire('unread', n);
    }
  };
  // The launcher's state; on a phone an open panel fills the screen: no
  // launcher over it, and the page must not scroll behind it.
  const draw = () => {
    const phone = open && innerWidth <= 480;
    const page = d.documentElement.style;
    button.ariaLabel = names[host.locale.slice(0, 2)] || 'Chat';
    button.ariaExpanded = !!open;
    button.hidden = phone;
    if (phone ^ locked) page.overflow = (locked = phone) ? 'hidden' : '';
  };

  // Opens (truthy) or closes the panel, importing the widget on the first
  // open; `open` and `close` fire on a change. A close while the widget
  // loads cancels the open.
  const toggle = (on) => {
    want = on = on ? 1 : 0;
    if (on == open) return;
    if (on) {
      el.hidden = 0;
      return (loading ||= load(signedIn))
        .then(() => {
          if (want && !open) {
            open = nudge.hidden = 1;
            slot.hidden = 0;
            draw();
            count(0);
            // The panel's `autofocus` control (the composer), else its first control.
            (slot.querySelector('[autofocus]') || slot.querySelector('textarea,button'))?.focus();
            fire('open');
          }
        }, (e) => {
          loading = 0;
          reportError(e);
        });
    }
    const inside = root.activeElement;
    slot.hidden = 1;
    open = 0;
    draw();
    if (inside) button.focus();
    fire('close');
  };
  // A phone turned or a window resized: full screen or floating again.
  addEventListener('resize', draw);
  // Esc anywhere in the shadow root (its key events reach the host element).
  el.onkeydown = (e) => {
    if (e.key == 'Escape') toggle();
  };

  const api = (name, a, b) => {
    if (name == 'on') {
      (handlers[a] ||= []).push(b);
      if (a == 'ready' && ready) call(b);
    } else if (name == 'off') handlers[a] = handlers[a]?.filter((f) => f != b);
    else if (name == 'open' || name == 'close') toggle(name == 'open');
    else if (name == 'toggle') toggle(!open);
    else if (name == 'show') el.hidden = 0;
    else if (name == 'hide') {
      toggle();
      el.hidden = 1;
    }
    else {
      if (name == 'setLocale') host.locale = a + '';
      // A reset forgets the session, so its unread replies and nudge too.
      if (name == 'reset') {
        nudge.hidden = 1;
        count(0);
      }
      draw();
      if (name[0] == 'l') signedIn = name == 'login';
      log.push([name, a, b]);
      commands.push([name, a, b]);
    }
  };
  api.l = 1;
  w.EdgeChat = api;

  // A returning visitor's session (read, never written here; empty: none)
  // lets the server skip the once-per-visitor rules they saw.
  let session = '';
  try {
    session = localStorage['edgechat:' + key + ':session'] || '';
  } catch (e) {}
  // Proactive nudges: the ones due now, then again when the next rule of
  // this page is due (`next_in` seconds; none: no more polls).
  const poll = () =>
    fetch(chat + 'pending-proactive' + site + '&url=' + q(location.href) + '&seconds_on_page=' + (performance.now() / 1e3 | 0) +
      '&session_id=' + q(session))
      .then((r) => r.json())
      .then((a) => {
        const m = a.messages?.[0];
        if (m && !open) {
          nudge.textContent = m.message;
          nudge.hidden = 0;
        } else if (a.next_in) setTimeout(poll, a.next_in * 1e3);
      }, () => {});

  // The site's settings (the browser caches them for 5 min): theme colours,
  // launcher side and offsets (px), whether it has proactive rules. Missing
  // or failed: the defaults. Then the launcher comes on the page and the
  // queued calls run.
  const configure = (c) => {
    const set = (name, value) => el.style.setProperty('--ec-' + name, value);
    set('accent', c.theme_color || '#4f46e5');
    set('on-accent', c.theme_text_color || '#fff');
    set('ink', c.theme_ink_color || '#111827');
    set('x', (c.launcher_offset_x ?? 20) + 'px');
    set('y', (c.launcher_offset_y ?? 20) + 'px');
    el.dataset.side = c.launcher_position || 'right';
    if (c.proactive !== false) poll();
    // One bad queued call (a handler that is no function, a bad name) is
    // reported and keeps neither the others nor the launcher from coming.
    early.map((args) => call(() => api(...args)));
    ready = 1;
    draw();
    d.body.append(el);
    fire('ready');
  };

  const attach = () =>
    fetch(chat + 'config' + site)
      .then((r) => r.json())
      .catch(() => ({}))
      .then(configure);
  d.body ? attach() : addEventListener('DOMContentLoaded', attach);
})(window, document);
