// The web manager's first page: log in, then list the machines through the
// JSON API (README.md beside the sources), nothing else. Object ids are
// released as soon as a row is drawn.
'use strict';

let csrf = null;

async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch('/api/' + path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json();
  if (!r.ok) {
    const e = new Error(data.message || r.statusText);
    e.status = r.status;
    throw e;
  }
  return data;
}

const get = (id, attr) => api('GET', `objects/${id}/${attr}`).then((d) => d[attr]);
const release = (id) => api('DELETE', `objects/${id}`);

function show(loggedIn) {
  document.getElementById('login').hidden = loggedIn;
  document.getElementById('main').hidden = !loggedIn;
}

function error(e) {
  document.getElementById('error').textContent = e ? String(e.message || e) : '';
}

async function refresh() {
  error(null);
  const root = await api('GET', 'ICapsule');
  const ids = await get(root.id, 'machines');
  const body = document.querySelector('#machines tbody');
  body.replaceChildren();
  for (const id of ids) {
    const tr = document.createElement('tr');
    for (const attr of ['name', 'state', 'osTypeId', 'memorySize']) {
      const td = document.createElement('td');
      try {
        td.textContent = await get(id, attr);
      } catch (e) {
        td.textContent = '(' + e.message + ')';
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
    await release(id);
  }
  await release(root.id);
}

async function start() {
  try {
    csrf = (await api('GET', 'session')).csrfToken;
    show(true);
    await refresh();
  } catch (e) {
    if (e.status !== 401) error(e);
    show(false);
  }
}

document.getElementById('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const token = document.getElementById('token').value.trim();
    csrf = (await api('POST', 'login', { token })).csrfToken;
    show(true);
    await refresh();
  } catch (e) {
    error(e);
  }
});
document.getElementById('refresh').addEventListener('click', () => refresh().catch(error));
document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', 'logout').catch(() => {});
  csrf = null;
  show(false);
});
start();
