#!/usr/bin/env python3
"""Writes the test status site for tests/sync.test: a Statuspage-like vendor ("acme", modelled on
fixtures/statuspage-incident/github-postmortem.html) at a given state, with its own address inside.
    tests/sync-site.py SRCDIR DEST ROOT_URL STATE
State 1: one resolved incident (no postmortem yet) and one under investigation.
State 2: the open incident has a new update.
State 3: the resolved incident's page carries a postmortem; no feed or JSON says so.
State "history": a site served at a server's root (httpd.py --serve-root) with /history?page=N
quarters (Q1 2026, Q4 2025, then quiet ones) and the incident pages they link to."""
import json, os, re, sys

src, dest, root, state = sys.argv[1], sys.argv[2], sys.argv[3].rstrip("/"), sys.argv[4]

def history_site():
    import html as H
    os.makedirs(os.path.join(dest, "incidents"), exist_ok=True)
    page_html = open(os.path.join(src, "fixtures", "statuspage-history", "github-q1-2026.html")).read()
    props = json.loads(H.unescape(re.search(r'data-react-props="([^"]*)"', page_html).group(1)))
    for k in ("domain", "subdomain"):  # the page's own address is the server's
        props["page_status"]["page"].pop(k, None)
    def month(name, year, incidents):
        return {"name": name, "year": year, "starts_on": 0, "days": 30, "incidents": incidents}
    def inc(code, name, impact, ts, msg):
        return {"code": code, "name": name, "message": msg, "impact": impact, "timestamp": ts}
    quarters = [
        [month("March", 2026, [inc("8q3xk2mv1b7n", "Incident with Actions", "major",
                                   "Mar <var data-var='date'>17</var>, <var data-var='time'>14:32</var> - "
                                   "<var data-var='time'>16:48</var> UTC",
                                   "This incident has been resolved.")]),
         month("February", 2026, []), month("January", 2026, [])],
        [month("December", 2024, [inc("n4r8t2k6w1zb", "Delayed builds & deploys", "minor",
                                      "Dec <var data-var='date'>30</var>, <var data-var='time'>23:10</var> - "
                                      "Dec <var data-var='date'>31</var>, <var data-var='time'>01:05</var> UTC",
                                      "Deploys are flowing normally again.")]),
         month("November", 2024, []), month("October", 2024, [])],
    ]
    for n in range(1, 13):  # quiet quarters after the first two
        props["months"] = quarters[n - 1] if n <= len(quarters) else [month("June", 2024 - n, [])]
        attr = H.escape(json.dumps(props), quote=True)
        body = re.sub(r'data-react-props="[^"]*"', lambda m: 'data-react-props="%s"' % attr, page_html, count=1)
        open(os.path.join(dest, "history-page-%d.html" % n), "w").write(body.replace("https://www.githubstatus.com", root))
    inc_html = open(os.path.join(src, "fixtures", "statuspage-incident", "github-postmortem.html")).read()
    open(os.path.join(dest, "incidents", "8q3xk2mv1b7n.html"), "w").write(inc_html.replace("https://www.githubstatus.com", root))
    other = open(os.path.join(src, "fixtures", "statuspage-incident", "netlify-no-components.html")).read()
    other = re.sub(r"https://www\.netlifystatus\.com", root, other)
    open(os.path.join(dest, "incidents", "n4r8t2k6w1zb.html"), "w").write(other)

if state == "history":
    history_site()
    sys.exit(0)
state = int(state)
page = {"id": "kctbh9vrtdwd", "name": "Acme", "url": root, "time_zone": "Etc/UTC",
        "updated_at": "2026-03-18T09:40:00.000Z"}
comp = {"id": "br0l2tvcx85d", "name": "Actions", "status": "operational", "group_id": None, "group": False}
comps = [comp, dict(comp, id="4230lsnqdsld", name="Webhooks"), dict(comp, id="brv1bkgrwx7q", name="API Requests")]

def upd(id_, inc, status, at, body):
    return {"id": id_, "incident_id": inc, "status": status, "body": body, "created_at": at,
            "updated_at": at, "display_at": at, "affected_components": None}

resolved = {
    "id": "8q3xk2mv1b7n", "name": "Incident with Actions", "status": "resolved", "impact": "major",
    "created_at": "2026-03-17T14:32:00.000Z", "updated_at": "2026-03-17T16:48:00.000Z",
    "started_at": "2026-03-17T14:32:00.000Z", "resolved_at": "2026-03-17T16:48:00.000Z",
    "shortlink": "https://stspg.io/x1", "page_id": page["id"], "components": comps,
    "incident_updates": [
        upd("r6", "8q3xk2mv1b7n", "resolved", "2026-03-17T16:48:00.000Z",
            "This incident has been resolved. We will publish a root cause analysis once our review is complete."),
        upd("r1", "8q3xk2mv1b7n", "investigating", "2026-03-17T14:32:00.000Z",
            "We are investigating reports of degraded performance for Actions"),
    ]}
ongoing_updates = [upd("o1", "t5c0x9m2k7qa", "investigating", "2026-03-18T09:12:00.000Z",
                       "We are investigating delays in webhook deliveries.")]
if state >= 2:
    ongoing_updates.insert(0, upd("o2", "t5c0x9m2k7qa", "identified", "2026-03-18T09:40:00.000Z",
                                  "A queue consumer is stuck & we are restarting it."))
ongoing = {"id": "t5c0x9m2k7qa", "name": "Delayed webhook deliveries", "status": ongoing_updates[0]["status"],
           "impact": "minor", "created_at": "2026-03-18T09:12:00.000Z",
           "updated_at": ongoing_updates[0]["created_at"], "started_at": "2026-03-18T09:12:00.000Z",
           "resolved_at": None, "shortlink": "https://stspg.io/x2", "page_id": page["id"],
           "components": [], "incident_updates": ongoing_updates}

site = os.path.join(dest, "acme")
os.makedirs(os.path.join(site, "api", "v2"), exist_ok=True)
os.makedirs(os.path.join(site, "incidents"), exist_ok=True)
def write(rel, text):
    path = os.path.join(site, rel)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
write("api/v2/summary.json", json.dumps({"page": page, "components": comps, "incidents": [ongoing],
                                          "scheduled_maintenances": [], "status": {"indicator": "minor"}}))
write("api/v2/incidents.json", json.dumps({"page": page, "incidents": [ongoing, resolved]}))
write("api/v2/scheduled-maintenances.json", json.dumps({"page": page, "scheduled_maintenances": []}))
html = open(os.path.join(src, "fixtures", "statuspage-incident", "github-postmortem.html")).read()
html = html.replace("https://www.githubstatus.com", root)
if state < 3:  # the postmortem row is the first update row
    html = re.sub(r'<div class="row update-row">\s*<div class="update-title span3 font-large">Postmortem</div>.*?'
                  r'(?=<div class="row update-row">)', "", html, count=1, flags=re.S)
write("incidents/8q3xk2mv1b7n.html", html)
write("index.html", '<!DOCTYPE html><html><head><title>Acme Status</title>'
      '<link rel="alternate" type="application/atom+xml" href="/files/acme/history.atom"></head>'
      '<body><div class="page-status status-none">All Systems Operational</div></body></html>')
