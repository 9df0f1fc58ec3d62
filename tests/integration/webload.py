#!/usr/bin/env python3
"""tests/integration/webload.py URL TOKEN CLIENTS SECONDS - the load client of
web_load.sh: CLIENTS threads, each its own keep-alive connection and its own
login session, call the API for SECONDS (the root, its machines, each
machine's state, a findMachine that must fail with 404, deleting every id
they got) and log out. Prints one line of numbers; exits 1 on any
unexpected status."""
import http.client
import json
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
token, clients, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
lock = threading.Lock()
totals = {'requests': 0, 'errors': []}


def call(c, method, path, want, body=None, headers=None):
    c.request(method, path, body=None if body is None else json.dumps(body),
              headers=headers or {})
    r = c.getresponse()
    data = json.loads(r.read())
    if r.status != want:
        with lock:
            totals['errors'].append('%s %s: %d %s' % (method, path, r.status, data))
    return data, r


def client():
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    d, r = call(c, 'POST', '/api/login', 200, {'token': token})
    h = {'Cookie': r.getheader('Set-Cookie').split(';')[0], 'X-CSRF-Token': d['csrfToken']}
    n, end = 1, time.time() + seconds
    while time.time() < end:
        root = call(c, 'GET', '/api/ICapsule', 200, headers=h)[0]['id']
        machines = call(c, 'GET', '/api/objects/%s/machines' % root, 200, headers=h)[0]
        n += 2
        for m in machines.get('machines', []):
            call(c, 'GET', '/api/objects/%s/state' % m, 200, headers=h)
            call(c, 'DELETE', '/api/objects/%s' % m, 200, headers=h)
            n += 2
        call(c, 'POST', '/api/objects/%s/findMachine' % root, 404, {'nameOrId': 'nope'}, h)
        call(c, 'DELETE', '/api/objects/%s' % root, 200, headers=h)
        n += 2
    call(c, 'POST', '/api/logout', 200, headers=h)
    with lock:
        totals['requests'] += n + 1


threads = [threading.Thread(target=client) for _ in range(clients)]
t0 = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.time() - t0
print('%d clients, %.1f s: %d requests, %.0f/s, %d errors' %
      (clients, dt, totals['requests'], totals['requests'] / dt, len(totals['errors'])))
for e in totals['errors'][:5]:
    print('  ' + e)
sys.exit(1 if totals['errors'] else 0)
