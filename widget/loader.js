/*! EdgeChat loader: the launcher in a Shadow DOM; the widget loads on click.
 * Before the visitor interacts it writes no storage and only asks for nudges. */
(function (w, d) {
  var s = d.currentScript;
  if (!s || (w.EdgeChat && w.EdgeChat.l)) return;
  var key = s.getAttribute('data-site-key') || '';
  var base = s.src.replace(/\/loader\.js(\?.*)?$/, '');
  var queue = (w.EdgeChat && w.EdgeChat.q) || [];
  var api = function () { queue.push(arguments); };
  api.q = queue;
  api.l = 1;
  w.EdgeChat = api;

  var host = d.createElement('edgechat-root');
  var root = host.attachShadow({ mode: 'open' });
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(
    ':host{all:initial}' +
    '.ec-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;' +
    'border:0;border-radius:50%;background:#4f46e5;color:#fff;cursor:pointer;display:grid;place-items:center;' +
    'box-shadow:0 6px 20px rgba(0,0,0,.2)}' +
    '.ec-launcher svg{width:26px;height:26px;fill:currentColor}[hidden]{display:none!important}' +
    '.ec-badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#dc2626;' +
    'color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center}' +
    '.ec-nudge{position:fixed;right:88px;bottom:24px;z-index:2147483000;max-width:240px;padding:10px 14px;border-radius:14px;' +
    'background:#fff;color:#111827;font:14px/1.4 system-ui,sans-serif;box-shadow:0 6px 20px rgba(0,0,0,.2);cursor:pointer}'
  );
  root.adoptedStyleSheets = [sheet];
  var slot = d.createElement('div');
  slot.hidden = true;
  var button = d.createElement('button');
  button.className = 'ec-launcher';
  button.type = 'button';
  button.setAttribute('aria-label', 'Open chat');
  button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg><span class="ec-badge" hidden></span>';
  var badge = button.lastChild, unread = 0;
  var nudge = d.createElement('div');
  nudge.className = 'ec-nudge';
  nudge.hidden = true;
  nudge.onclick = function () { button.onclick(); };
  root.append(slot, nudge, button);

  // Returning visitors (a session exists) get an unread badge for replies.
  var prefix = 'edgechat:' + key + ':', store;
  try { store = w.localStorage; } catch (e) {}
  var session = store && store.getItem(prefix + 'session');
  var q = function (v) { return encodeURIComponent(v); };

  // Proactive nudges: poll with backoff, or when the next rule is due.
  var start = Date.now(), wait = 2;
  function poll() {
    fetch(base + '/api/v1/chat/pending-proactive?site_key=' + q(key) + '&url=' + q(location.href) +
      '&seconds_on_page=' + ((Date.now() - start) / 1e3 | 0) + (session ? '&session_id=' + q(session) : ''))
      .then(function (r) { return r.json(); })
      .then(function (a) {
        var m = a.messages && a.messages[0];
        if (m && slot.hidden) {
          nudge.textContent = m.message;
          nudge.hidden = false;
        } else {
          wait = a.next_in ? Math.min(a.next_in, 60) : Math.min(wait * 2, 60);
          if (Date.now() - start < 6e5) setTimeout(poll, wait * 1e3);
        }
      }, function () {});
  }
  setTimeout(poll, 500);

  if (session) (w.requestIdleCallback || setTimeout)(function () {
    new EventSource(base + '/api/v1/chat/events?site_key=' + q(key) + '&session_id=' + q(session) +
      '&after_seq=' + (+store.getItem(prefix + 'seen') || 0)).addEventListener('message', function (e) {
      if (slot.hidden && JSON.parse(e.data).message.role == 'operator') {
        badge.textContent = ++unread;
        badge.hidden = false;
      }
    });
  });

  var loading;
  button.onclick = function () {
    loading = loading || import(base + '/__WIDGET_JS__').then(function (m) {
      return m.default({ module_or_path: base + '/__WIDGET_WASM__' }).then(function () {
        m.mount(root, slot, key, base, queue); // identify, reset: the widget applies them
      });
    });
    loading.then(function () {
      slot.hidden = !slot.hidden;
      unread = 0;
      badge.hidden = nudge.hidden = true;
      button.setAttribute('aria-expanded', String(!slot.hidden));
    }, function (e) {
      loading = null;
      console.error('EdgeChat:', e);
    });
  };

  function attach() { d.body.appendChild(host); }
  if (d.body) attach(); else d.addEventListener('DOMContentLoaded', attach);
})(window, document);
