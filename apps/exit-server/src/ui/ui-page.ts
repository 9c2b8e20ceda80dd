/** Escapes text for HTML. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.3rem}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f3f3}.num{text-align:right}
svg{border:1px solid #ccc;background:#fafafa}.err{color:#b00}form.inline{display:inline}`;

/** The login form: the token goes in a POST body, never in the URL. */
export function loginPage(message?: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tunnel: log in</title><style>${STYLE}</style></head>
<body><h1>Tunnel exit server</h1>${message ? `<p class="err" id="error">${esc(message)}</p>` : ''}
<form method="post" action="/ui/login"><label>Admin token <input type="password" name="token" id="token" autocomplete="current-password" required></label>
<button type="submit" id="login">Log in</button></form></body></html>`;
}

/** The status page; /ui/app.js fills it from /ui/events. */
export function statusPage(instanceId: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tunnel: ${esc(instanceId)}</title><style>${STYLE}</style></head>
<body><h1>Tunnel exit server <code>${esc(instanceId)}</code></h1>
<form class="inline" method="post" action="/ui/logout"><button type="submit">Log out</button></form>
<p>Connected clients: <b id="client-count">-</b> &middot; requests/s (last 10 s): <b id="rate">-</b> &middot; errors/s: <b id="error-rate">-</b> &middot; updated <span id="updated">never</span></p>
<table id="clients"><thead><tr><th>client</th><th>address</th><th>hostnames</th><th>connected since</th><th class="num">in flight</th><th class="num">requests</th><th class="num">bytes in</th><th class="num">bytes out</th><th class="num">RTT ms</th></tr></thead><tbody></tbody></table>
<h2>Requests and errors per second, last 5 minutes</h2><svg id="graph" width="900" height="160" viewBox="0 0 900 160"></svg>
<script src="/ui/app.js"></script></body></html>`;
}

/** The page's script (served with a strict CSP: no inline script). */
export const APP_JS = `'use strict';
const $ = (id) => document.getElementById(id);
function cell(text, num) { const td = document.createElement('td'); td.textContent = text; if (num) td.className = 'num'; return td; }
function render(s) {
  $('client-count').textContent = String(s.clients.length);
  const last = s.rates.slice(-10);
  const sum = (k) => last.reduce((n, p) => n + p[k], 0) / Math.max(1, last.length);
  $('rate').textContent = sum('requests').toFixed(1);
  $('error-rate').textContent = sum('errors').toFixed(1);
  $('updated').textContent = new Date().toLocaleTimeString();
  const body = document.querySelector('#clients tbody');
  body.replaceChildren(...s.clients.map((c) => {
    const tr = document.createElement('tr');
    tr.dataset.client = c.id;
    tr.append(cell(c.id), cell(c.remoteAddress), cell((c.hostnames.length ? c.hostnames : ['(any)']).join(', ')), cell(c.connectedSince),
      cell(String(c.inFlight), true), cell(String(c.requestsServed), true), cell(String(c.bytesIn), true), cell(String(c.bytesOut), true),
      cell(c.lastRttMs === null ? '-' : String(c.lastRttMs), true));
    return tr;
  }));
  const svg = $('graph');
  const max = Math.max(1, ...s.rates.map((p) => p.requests));
  const pts = (k) => s.rates.map((p, i) => (i * 900 / Math.max(1, s.rates.length - 1)).toFixed(1) + ',' + (155 - p[k] * 150 / max).toFixed(1)).join(' ');
  svg.innerHTML = '<polyline fill="none" stroke="#36c" stroke-width="2" points="' + pts('requests') + '"/>' +
    '<polyline fill="none" stroke="#c33" stroke-width="2" points="' + pts('errors') + '"/>' +
    '<text x="5" y="14" font-size="12">max ' + max + '/s</text>';
}
const events = new EventSource('/ui/events');
events.addEventListener('state', (e) => render(JSON.parse(e.data)));
events.addEventListener('error', () => { $('updated').textContent = 'disconnected, retrying'; });
`;
