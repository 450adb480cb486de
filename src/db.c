/* db.c: the archive on disk. The only file that includes sqlite3.h. Schema changes are migrations:
 * append one to the table below (never edit an applied one); an old archive is upgraded in place. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zlib.h>

#include "db.h"
#include "normalize.h"
#include "sha256.h"
#include "util.h"

/* ---- schema ---- */

static const char schema_1[] =
	"CREATE TABLE schema_migrations (\n"
	"  version INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL,\n"
	"  applied_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE vendors (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
	"  page_id TEXT,\n"
	"  page_name TEXT,\n"
	"  page_url TEXT,\n"
	"  time_zone TEXT,\n"
	"  created_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE blobs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  sha256 TEXT NOT NULL UNIQUE,\n"
	"  size INTEGER NOT NULL,\n"
	"  encoding TEXT NOT NULL CHECK (encoding IN ('identity', 'zlib')),\n"
	"  data BLOB NOT NULL\n"
	");\n"
	"CREATE TABLE sources (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  vendor_id INTEGER NOT NULL REFERENCES vendors(id),\n"
	"  kind TEXT NOT NULL,\n"
	"  url TEXT NOT NULL DEFAULT '',\n"
	"  created_at TEXT NOT NULL,\n"
	"  last_document_id INTEGER REFERENCES documents(id),\n"
	"  last_fetched_at TEXT,\n"
	"  UNIQUE (vendor_id, kind, url)\n"
	");\n"
	"CREATE TABLE documents (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
	"  sha256 TEXT NOT NULL REFERENCES blobs(sha256),\n"
	"  kind TEXT NOT NULL,\n"
	"  url TEXT,\n"
	"  file_name TEXT,\n"
	"  fetched_at TEXT NOT NULL,\n"
	"  ingested_at TEXT NOT NULL,\n"
	"  http_status INTEGER,\n"
	"  etag TEXT,\n"
	"  last_modified TEXT,\n"
	"  content_type TEXT,\n"
	"  incidents INTEGER NOT NULL DEFAULT 0,\n"
	"  parse_errors TEXT CHECK (parse_errors IS NULL OR json_valid(parse_errors)),\n"
	"  UNIQUE (source_id, sha256)\n"
	");\n"
	"CREATE INDEX documents_by_time ON documents(source_id, fetched_at);\n"
	"CREATE INDEX documents_by_blob ON documents(sha256);\n"
	"CREATE TABLE incidents (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  vendor_id INTEGER NOT NULL REFERENCES vendors(id),\n"
	"  key TEXT NOT NULL,\n"
	"  url TEXT,\n"
	"  title TEXT,\n"
	"  kind TEXT,\n"
	"  impact TEXT,\n"
	"  status TEXT,\n"
	"  started_at TEXT,\n"
	"  resolved_at TEXT,\n"
	"  updated_at TEXT,\n"
	"  scheduled_for TEXT,\n"
	"  scheduled_until TEXT,\n"
	"  first_seen_at TEXT NOT NULL,\n"
	"  observed_at TEXT NOT NULL,\n"
	"  changed_at TEXT NOT NULL,\n"
	"  vanished_at TEXT,\n"
	"  vanished_from TEXT,\n"
	"  revisions INTEGER NOT NULL DEFAULT 0,\n"
	"  UNIQUE (vendor_id, key)\n"
	");\n"
	"CREATE INDEX incidents_by_start ON incidents(vendor_id, started_at);\n"
	"CREATE TABLE incident_keys (\n"
	"  vendor_id INTEGER NOT NULL REFERENCES vendors(id),\n"
	"  value TEXT NOT NULL,\n"
	"  scheme TEXT NOT NULL,\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  PRIMARY KEY (vendor_id, value)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX incident_keys_by_incident ON incident_keys(incident_id);\n"
	"CREATE TABLE updates (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  position INTEGER NOT NULL,\n"
	"  update_id TEXT,\n"
	"  status TEXT,\n"
	"  status_raw TEXT,\n"
	"  at TEXT,\n"
	"  body TEXT,\n"
	"  body_html TEXT,\n"
	"  UNIQUE (incident_id, position)\n"
	");\n"
	"CREATE TABLE components (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  vendor_id INTEGER NOT NULL REFERENCES vendors(id),\n"
	"  key TEXT NOT NULL,\n"
	"  code TEXT,\n"
	"  name TEXT,\n"
	"  group_name TEXT,\n"
	"  status TEXT,\n"
	"  status_raw TEXT,\n"
	"  status_at TEXT,\n"
	"  UNIQUE (vendor_id, key)\n"
	");\n"
	"CREATE TABLE incident_components (\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  component_id INTEGER NOT NULL REFERENCES components(id),\n"
	"  PRIMARY KEY (incident_id, component_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX incident_components_by_component ON incident_components(component_id);\n"
	"CREATE TABLE postmortems (\n"
	"  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),\n"
	"  body TEXT,\n"
	"  body_html TEXT,\n"
	"  published_at TEXT,\n"
	"  first_seen_at TEXT NOT NULL,\n"
	"  text_seen_at TEXT,\n"
	"  changed_at TEXT NOT NULL\n"
	");\n"
	"CREATE TABLE revisions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  number INTEGER NOT NULL,\n"
	"  seen_at TEXT NOT NULL,\n"
	"  document_id INTEGER REFERENCES documents(id),\n"
	"  changes TEXT NOT NULL,\n"
	"  record TEXT NOT NULL CHECK (json_valid(record)),\n"
	"  UNIQUE (incident_id, number)\n"
	");\n"
	"CREATE TABLE listings (\n"
	"  source_id INTEGER NOT NULL REFERENCES sources(id),\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  key TEXT NOT NULL,\n"
	"  record_sha256 TEXT NOT NULL,\n"
	"  listed INTEGER NOT NULL,\n"
	"  first_document_id INTEGER REFERENCES documents(id),\n"
	"  last_document_id INTEGER REFERENCES documents(id),\n"
	"  PRIMARY KEY (source_id, incident_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE events (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  type TEXT NOT NULL,\n"
	"  vendor TEXT NOT NULL,\n"
	"  incident_key TEXT,\n"
	"  incident_id INTEGER REFERENCES incidents(id),\n"
	"  created_at TEXT NOT NULL,\n"
	"  observed_at TEXT,\n"
	"  document_id INTEGER REFERENCES documents(id),\n"
	"  revision_id INTEGER REFERENCES revisions(id),\n"
	"  payload TEXT NOT NULL CHECK (json_valid(payload))\n"
	");\n"
	"CREATE INDEX events_by_time ON events(created_at);\n"
	"CREATE INDEX events_by_incident ON events(incident_id);\n"
	"CREATE TABLE search_text (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  incident_id INTEGER NOT NULL REFERENCES incidents(id),\n"
	"  field TEXT NOT NULL,\n"
	"  position INTEGER NOT NULL DEFAULT 0,\n"
	"  text TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX search_text_by_incident ON search_text(incident_id);\n"
	"CREATE VIRTUAL TABLE search USING fts5(text, content='search_text', content_rowid='id',\n"
	"  tokenize='unicode61 remove_diacritics 2');\n"
	"CREATE TRIGGER search_text_ai AFTER INSERT ON search_text BEGIN\n"
	"  INSERT INTO search(rowid, text) VALUES (new.id, new.text);\n"
	"END;\n"
	"CREATE TRIGGER search_text_ad AFTER DELETE ON search_text BEGIN\n"
	"  INSERT INTO search(search, rowid, text) VALUES ('delete', old.id, old.text);\n"
	"END;\n"
	"CREATE TRIGGER search_text_au AFTER UPDATE ON search_text BEGIN\n"
	"  INSERT INTO search(search, rowid, text) VALUES ('delete', old.id, old.text);\n"
	"  INSERT INTO search(rowid, text) VALUES (new.id, new.text);\n"
	"END;\n"
	"CREATE VIEW incident_list AS\n"
	"SELECT v.name AS vendor, i.key AS incident, i.title, i.kind, i.impact, i.status,\n"
	"  i.started_at, i.resolved_at,\n"
	"  CAST(strftime('%s', i.resolved_at) AS INTEGER) - CAST(strftime('%s', i.started_at) AS INTEGER)\n"
	"    AS duration_seconds,\n"
	"  CASE WHEN i.resolved_at IS NOT NULL AND i.started_at IS NOT NULL THEN\n"
	"    printf('%dh %02dm', (strftime('%s', i.resolved_at) - strftime('%s', i.started_at)) / 3600,\n"
	"           (strftime('%s', i.resolved_at) - strftime('%s', i.started_at)) % 3600 / 60) END AS duration,\n"
	"  (SELECT count(*) FROM updates u WHERE u.incident_id = i.id) AS updates,\n"
	"  EXISTS (SELECT 1 FROM postmortems p WHERE p.incident_id = i.id) AS postmortem,\n"
	"  i.first_seen_at, i.vanished_at, i.url, i.id AS incident_id\n"
	"FROM incidents i JOIN vendors v ON v.id = i.vendor_id;\n"
	"CREATE VIEW timeline AS\n"
	"SELECT v.name AS vendor, i.key AS incident, i.title, u.position + 1 AS number, u.status, u.at,\n"
	"  u.body, i.id AS incident_id\n"
	"FROM updates u JOIN incidents i ON i.id = u.incident_id JOIN vendors v ON v.id = i.vendor_id;\n"
	"CREATE VIEW postmortem_delay AS\n"
	"SELECT v.name AS vendor, i.key AS incident, i.title, i.resolved_at,\n"
	"  CASE WHEN p.published_at IS NOT NULL THEN p.published_at\n"
	"    WHEN p.first_seen_at > i.first_seen_at THEN p.first_seen_at END AS postmortem_at,\n"
	"  p.published_at IS NULL AS estimated,\n"
	"  round(julianday(CASE WHEN p.published_at IS NOT NULL THEN p.published_at\n"
	"    WHEN p.first_seen_at > i.first_seen_at THEN p.first_seen_at END) - julianday(i.resolved_at), 1)\n"
	"    AS delay_days,\n"
	"  p.body IS NOT NULL AS has_text, p.body, i.id AS incident_id\n"
	"FROM postmortems p JOIN incidents i ON i.id = p.incident_id JOIN vendors v ON v.id = i.vendor_id;\n"
	"CREATE VIEW event_log AS\n"
	"SELECT e.id, e.created_at, e.type, e.vendor, e.incident_key AS incident, i.title, e.payload\n"
	"FROM events e LEFT JOIN incidents i ON i.id = e.incident_id;\n";

/* Migration 2: what sync needs: vendors that are polled, with their health; sources' HTTP state;
 * runs; and the revisit schedule of resolved incidents (late postmortems). */
static const char schema_2[] =
	"ALTER TABLE vendors ADD COLUMN title TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN status_url TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN platform TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN polled INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE vendors ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE vendors ADD COLUMN broken INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE vendors ADD COLUMN next_at TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN last_ok_at TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN last_try_at TEXT;\n"
	"ALTER TABLE vendors ADD COLUMN last_error TEXT;\n"
	"ALTER TABLE sources ADD COLUMN polled INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE sources ADD COLUMN etag TEXT;\n"
	"ALTER TABLE sources ADD COLUMN last_modified TEXT;\n"
	"ALTER TABLE sources ADD COLUMN last_status INTEGER;\n"
	"ALTER TABLE sources ADD COLUMN next_at TEXT;\n"
	"ALTER TABLE sources ADD COLUMN last_try_at TEXT;\n"
	"ALTER TABLE sources ADD COLUMN last_ok_at TEXT;\n"
	"ALTER TABLE sources ADD COLUMN last_error TEXT;\n"
	"CREATE TABLE runs (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  started_at TEXT NOT NULL,\n"
	"  finished_at TEXT,\n"
	"  status INTEGER,\n"
	"  vendors INTEGER,\n"
	"  failed INTEGER,\n"
	"  report TEXT\n"
	");\n"
	"CREATE TABLE run_vendors (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id),\n"
	"  vendor_id INTEGER NOT NULL REFERENCES vendors(id),\n"
	"  outcome TEXT NOT NULL,\n"
	"  detail TEXT,\n"
	"  fetched INTEGER NOT NULL DEFAULT 0,\n"
	"  not_modified INTEGER NOT NULL DEFAULT 0,\n"
	"  events INTEGER NOT NULL DEFAULT 0,\n"
	"  PRIMARY KEY (run_id, vendor_id)\n"
	");\n"
	"CREATE TABLE revisits (\n"
	"  incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),\n"
	"  step INTEGER NOT NULL,\n"
	"  last_at TEXT NOT NULL\n"
	");\n"
	"CREATE VIEW vendor_health AS\n"
	"SELECT name, platform, status_url, polled,\n"
	"  CASE WHEN broken THEN 'broken' WHEN failures > 0 THEN 'failing' WHEN last_ok_at IS NULL THEN 'new'"
	" ELSE 'ok' END AS health,\n"
	"  failures, last_ok_at, last_try_at, next_at, last_error\n"
	"FROM vendors;\n";

static const char schema_3[] =
	"CREATE TABLE archive_info (\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL\n"
	");\n"
	"INSERT INTO archive_info (key, value) VALUES ('archive_id', lower(hex(randomblob(16))));\n"
	"CREATE TABLE sinks (\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  name TEXT NOT NULL UNIQUE,\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('program', 'webhook', 'file', 'email')),\n"
	"  target TEXT NOT NULL,\n"
	"  config TEXT NOT NULL CHECK (json_valid(config)),\n"
	"  types TEXT NOT NULL,\n"
	"  vendors TEXT,\n"
	"  min_impact TEXT,\n"
	"  created_at TEXT NOT NULL,\n"
	"  cursor INTEGER NOT NULL DEFAULT 0,\n"
	"  down_until TEXT\n"
	");\n"
	"CREATE TABLE deliveries (\n"
	"  event_id INTEGER NOT NULL REFERENCES events(id),\n"
	"  sink_id INTEGER NOT NULL REFERENCES sinks(id) ON DELETE CASCADE,\n"
	"  key TEXT NOT NULL,\n"
	"  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'held', 'failed')),\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  refusals INTEGER NOT NULL DEFAULT 0,\n"
	"  next_at TEXT,\n"
	"  last_try_at TEXT,\n"
	"  last_error TEXT,\n"
	"  delivered_at TEXT,\n"
	"  PRIMARY KEY (event_id, sink_id)\n"
	");\n"
	"CREATE INDEX deliveries_by_sink ON deliveries(sink_id, state, event_id);\n"
	"CREATE VIEW delivery_log AS\n"
	"SELECT d.event_id, s.name AS sink, e.type, e.vendor, e.incident_key, d.state, d.attempts, d.refusals,\n"
	"  d.last_try_at, d.next_at, d.delivered_at, d.last_error, d.key\n"
	"FROM deliveries d JOIN sinks s ON s.id = d.sink_id JOIN events e ON e.id = d.event_id;\n";

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* NOTE: append only. An applied migration is never edited: add a new one that alters the schema. */
static const struct migration migrations[] = {
	{ 1, "the archive: vendors, sources, documents, incidents, revisions, events, search", schema_1 },
	{ 2, "sync: polled vendors and their health, sources' HTTP state, runs, revisits", schema_2 },
	{ 3, "alerts: the archive's id, sinks and deliveries", schema_3 },
};

/* ---- statements ---- */

enum stmt {
	S_VENDOR_GET,
	S_VENDOR_ADD,
	S_VENDOR_PAGE,
	S_SOURCE_GET,
	S_SOURCE_ADD,
	S_SOURCE_ADVANCE,
	S_DOC_KNOWN,
	S_BLOB_KNOWN,
	S_BLOB_ADD,
	S_DOC_ADD,
	S_DOC_READ,
	S_COMP_NOTE,
	S_COMP_UPSERT,
	S_KEY_LOOKUP,
	S_KEY_ADD,
	S_INC_ADD,
	S_INC_UPDATE,
	S_INC_OBSERVED,
	S_INC_VANISHED,
	S_INC_TIMES,
	S_INC_LOAD,
	S_INC_LATEST,
	S_PM_LOAD,
	S_PM_PUT,
	S_REV_ADD,
	S_UPD_DEL,
	S_UPD_ADD,
	S_IC_DEL,
	S_IC_ADD,
	S_ST_DEL,
	S_ST_ADD,
	S_LIST_LOAD,
	S_LIST_PUT,
	S_LIST_LISTED,
	S_EVENT_ADD,
	S_REVS,
	S_FIND,
	N_STMT
};

static const char *const stmt_sql[N_STMT] = {
	[S_VENDOR_GET] = "SELECT id FROM vendors WHERE name = ?1",
	[S_VENDOR_ADD] = "INSERT INTO vendors (name, created_at) VALUES (?1, ?2)",
	[S_VENDOR_PAGE] = "UPDATE vendors SET page_id = coalesce(?2, page_id), page_name = coalesce(?3, page_name),"
			  " page_url = coalesce(?4, page_url), time_zone = coalesce(?5, time_zone) WHERE id = ?1",
	[S_SOURCE_GET] = "SELECT id, last_document_id, last_fetched_at FROM sources"
			 " WHERE vendor_id = ?1 AND kind = ?2 AND url = ?3",
	[S_SOURCE_ADD] = "INSERT INTO sources (vendor_id, kind, url, created_at) VALUES (?1, ?2, ?3, ?4)",
	[S_SOURCE_ADVANCE] = "UPDATE sources SET last_document_id = ?2, last_fetched_at = ?3 WHERE id = ?1",
	[S_DOC_KNOWN] = "SELECT id FROM documents WHERE source_id = ?1 AND sha256 = ?2",
	[S_BLOB_KNOWN] = "SELECT 1 FROM blobs WHERE sha256 = ?1",
	[S_BLOB_ADD] = "INSERT INTO blobs (sha256, size, encoding, data) VALUES (?1, ?2, ?3, ?4)",
	[S_DOC_ADD] = "INSERT INTO documents (source_id, sha256, kind, url, file_name, fetched_at, ingested_at,"
		      " http_status, etag, last_modified, content_type, incidents, parse_errors)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[S_DOC_READ] = "SELECT d.kind, d.url, b.sha256, b.size, b.encoding, b.data FROM documents d"
		       " JOIN blobs b ON b.sha256 = d.sha256 WHERE d.id = ?1",
	[S_COMP_NOTE] = "INSERT INTO components (vendor_id, key, code, name, group_name, status, status_raw, status_at)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
			" ON CONFLICT (vendor_id, key) DO UPDATE SET"
			" code = coalesce(excluded.code, code),"
			" name = CASE WHEN status_at IS NULL OR excluded.status_at >= status_at"
			"   THEN coalesce(excluded.name, name) ELSE coalesce(name, excluded.name) END,"
			" group_name = coalesce(excluded.group_name, group_name),"
			" status = CASE WHEN excluded.status_raw IS NOT NULL AND"
			"   (status_at IS NULL OR excluded.status_at >= status_at) THEN excluded.status ELSE status END,"
			" status_raw = CASE WHEN excluded.status_raw IS NOT NULL AND"
			"   (status_at IS NULL OR excluded.status_at >= status_at) THEN excluded.status_raw ELSE status_raw END,"
			" status_at = CASE WHEN excluded.status_raw IS NOT NULL AND"
			"   (status_at IS NULL OR excluded.status_at >= status_at) THEN excluded.status_at ELSE status_at END",
	[S_COMP_UPSERT] = "INSERT INTO components (vendor_id, key, code, name, group_name) VALUES (?1, ?2, ?3, ?4, ?5)"
			  " ON CONFLICT (vendor_id, key) DO UPDATE SET code = coalesce(code, excluded.code),"
			  " name = coalesce(name, excluded.name), group_name = coalesce(group_name, excluded.group_name)"
			  " RETURNING id",
	[S_KEY_LOOKUP] = "SELECT incident_id FROM incident_keys WHERE vendor_id = ?1 AND value = ?2",
	[S_KEY_ADD] = "INSERT OR IGNORE INTO incident_keys (vendor_id, value, scheme, incident_id) VALUES (?1, ?2, ?3, ?4)",
	[S_INC_ADD] = "INSERT INTO incidents (vendor_id, key, url, title, kind, impact, status, started_at, resolved_at,"
		      " updated_at, scheduled_for, scheduled_until, first_seen_at, observed_at, changed_at, revisions)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
	[S_INC_UPDATE] = "UPDATE incidents SET url = ?3, title = ?4, kind = ?5, impact = ?6, status = ?7, started_at = ?8,"
			 " resolved_at = ?9, updated_at = ?10, scheduled_for = ?11, scheduled_until = ?12,"
			 " observed_at = max(observed_at, ?14), changed_at = ?15, revisions = ?16 WHERE id = ?1",
	[S_INC_OBSERVED] = "UPDATE incidents SET observed_at = max(observed_at, ?2), first_seen_at = min(first_seen_at, ?2)"
			   " WHERE id = ?1 AND (observed_at < ?2 OR first_seen_at > ?2)",
	[S_INC_VANISHED] = "UPDATE incidents SET vanished_at = ?2, vanished_from = ?3 WHERE id = ?1",
	[S_INC_TIMES] = "SELECT started_at, updated_at FROM incidents WHERE id = ?1",
	[S_INC_LOAD] = "SELECT i.vendor_id, v.name, i.key, i.first_seen_at, i.observed_at, i.changed_at, i.vanished_at,"
		       " i.vanished_from, i.revisions FROM incidents i JOIN vendors v ON v.id = i.vendor_id WHERE i.id = ?1",
	[S_INC_LATEST] = "SELECT record FROM revisions WHERE incident_id = ?1 ORDER BY number DESC LIMIT 1",
	[S_PM_LOAD] = "SELECT first_seen_at, text_seen_at FROM postmortems WHERE incident_id = ?1",
	[S_PM_PUT] = "INSERT INTO postmortems (incident_id, body, body_html, published_at, first_seen_at, text_seen_at,"
		     " changed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		     " ON CONFLICT (incident_id) DO UPDATE SET body = excluded.body, body_html = excluded.body_html,"
		     " published_at = excluded.published_at, first_seen_at = excluded.first_seen_at,"
		     " text_seen_at = excluded.text_seen_at,"
		     " changed_at = CASE WHEN body IS excluded.body AND published_at IS excluded.published_at"
		     "   THEN changed_at ELSE excluded.changed_at END",
	[S_REV_ADD] = "INSERT INTO revisions (incident_id, number, seen_at, document_id, changes, record)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_UPD_DEL] = "DELETE FROM updates WHERE incident_id = ?1",
	[S_UPD_ADD] = "INSERT INTO updates (incident_id, position, update_id, status, status_raw, at, body, body_html)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_IC_DEL] = "DELETE FROM incident_components WHERE incident_id = ?1",
	[S_IC_ADD] = "INSERT OR IGNORE INTO incident_components (incident_id, component_id) VALUES (?1, ?2)",
	[S_ST_DEL] = "DELETE FROM search_text WHERE incident_id = ?1",
	[S_ST_ADD] = "INSERT INTO search_text (incident_id, field, position, text) VALUES (?1, ?2, ?3, ?4)",
	[S_LIST_LOAD] = "SELECT incident_id, key, record_sha256, listed FROM listings WHERE source_id = ?1 ORDER BY key",
	[S_LIST_PUT] = "INSERT INTO listings (source_id, incident_id, key, record_sha256, listed, first_document_id,"
		       " last_document_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)"
		       " ON CONFLICT (source_id, incident_id) DO UPDATE SET key = excluded.key,"
		       " record_sha256 = excluded.record_sha256, listed = excluded.listed,"
		       " last_document_id = excluded.last_document_id",
	[S_LIST_LISTED] = "UPDATE listings SET listed = ?3, last_document_id = ?4 WHERE source_id = ?1 AND incident_id = ?2",
	[S_EVENT_ADD] = "INSERT INTO events (type, vendor, incident_key, incident_id, created_at, observed_at,"
			" document_id, revision_id, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[S_REVS] = "SELECT r.number, r.seen_at, r.document_id, d.kind, d.url, d.file_name, r.changes, r.record"
		   " FROM revisions r LEFT JOIN documents d ON d.id = r.document_id"
		   " WHERE r.incident_id = ?1 ORDER BY r.number",
	[S_FIND] = "SELECT k.incident_id FROM incident_keys k JOIN vendors v ON v.id = k.vendor_id"
		   " WHERE v.name = ?1 AND k.value = ?2"
		   " UNION ALL SELECT i.id FROM incidents i JOIN vendors v ON v.id = i.vendor_id"
		   " WHERE v.name = ?1 AND i.key = ?2 LIMIT 1",
};

struct db {
	sqlite3 *h;
	char *path;
	int version;
	int applied;
	int busy_ms;
	sqlite3_stmt *st[N_STMT];
};

/* ---- helpers ---- */

static int fail(struct db *db, char **cause, const char *what)
{
	int code = sqlite3_extended_errcode(db->h) & 0xff;
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED) {
		set_cause(cause, "the archive '%s' is locked by another process (waited %d ms)", db->path,
			  db->busy_ms);
		return DB_LOCKED;
	}
	set_cause(cause, "%s: %s", what, sqlite3_errmsg(db->h));
	return -1;
}

static sqlite3_stmt *prep(struct db *db, enum stmt s, char **cause, int *rc)
{
	if (!db->st[s]) {
		if (sqlite3_prepare_v3(db->h, stmt_sql[s], -1, SQLITE_PREPARE_PERSISTENT, &db->st[s], NULL) != SQLITE_OK) {
			*rc = fail(db, cause, "cannot prepare a statement");
			return NULL;
		}
	}
	return db->st[s];
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_time(sqlite3_stmt *st, int i, int ok, int64_t t)
{
	if (!ok) {
		sqlite3_bind_null(st, i);
		return;
	}
	char buf[40];
	rec_format_time(t, buf, sizeof buf);
	sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
}

static void bind_rtime(sqlite3_stmt *st, int i, const struct rec_time *t)
{
	bind_time(st, i, t->ok, t->t);
}

static void bind_id(sqlite3_stmt *st, int i, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

static char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

static const char *col_cstr(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* Our own "YYYY-MM-DDTHH:MM:SSZ" quickly, anything else through date_parse. */
static int parse_time(const char *s, int64_t *t)
{
	if (!s)
		return 0;
	int y, mo, d, h, mi, se;
	char z;
	if (strlen(s) == 20 && sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) == 7 && z == 'Z') {
		*t = date_from_civil(y, mo, d, h, mi, se);
		return 1;
	}
	return date_parse(s, NULL, t, NULL) == 0;
}

static int col_time(sqlite3_stmt *st, int i, int64_t *t)
{
	return parse_time(col_cstr(st, i), t);
}

/* Run a prepared statement that returns no rows. */
static int run(struct db *db, sqlite3_stmt *st, char **cause, const char *what)
{
	int r = sqlite3_step(st);
	int rc = 0;
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = fail(db, cause, what);
	done(st);
	return rc;
}

static int exec(struct db *db, const char *sql, char **cause)
{
	char *err = NULL;
	if (sqlite3_exec(db->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		int rc = fail(db, cause, "cannot update the archive");
		if (rc != DB_LOCKED) {
			free(*cause);
			*cause = NULL;
			set_cause(cause, "%s", err ? err : sqlite3_errmsg(db->h));
		}
		sqlite3_free(err);
		return rc;
	}
	return 0;
}

/* ---- open, migrate, close ---- */

char *db_resolve_path(const char *explicit_path, char **cause)
{
	if (explicit_path && *explicit_path)
		return xstrdup(explicit_path);
	const char *env = getenv("STARCHIVE_DB");
	if (env && *env)
		return xstrdup(env);
	const char *xdg = getenv("XDG_DATA_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/starchive/archive.db", xdg);
	const char *home = getenv("HOME");
	if (home && *home)
		return xasprintf("%s/.local/share/starchive/archive.db", home);
	set_cause(cause, "no archive path: give --db PATH or set STARCHIVE_DB, XDG_DATA_HOME or HOME");
	return NULL;
}

/* mkdir -p for the folders above path. */
static int make_parents(const char *path, char **cause)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			set_cause(cause, "cannot create '%s': %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

static int read_version(struct db *db, int *v, char **cause)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return fail(db, cause, "cannot read the schema version");
	int r = sqlite3_step(st);
	*v = r == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return fail(db, cause, "cannot read the schema version");
	return 0;
}

int db_schema_latest(void)
{
	return migrations[ARRAY_SIZE(migrations) - 1].version;
}

static int migrate(struct db *db, char **cause)
{
	int rc = read_version(db, &db->version, cause);
	if (rc < 0)
		return rc;
	if (db->version > db_schema_latest())
		return set_cause(cause, "the archive '%s' has schema version %d, newer than this starchive knows (%d)",
				 db->path, db->version, db_schema_latest());
	if (db->version == db_schema_latest())
		return 0;
	if ((rc = db_begin(db, cause)) < 0)
		return rc;
	/* another process may have migrated while we waited for the lock */
	if ((rc = read_version(db, &db->version, cause)) < 0)
		goto fail;
	for (size_t i = 0; i < ARRAY_SIZE(migrations); i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= db->version)
			continue;
		if ((rc = exec(db, m->sql, cause)) < 0) {
			char *inner = *cause;
			*cause = NULL;
			set_cause(cause, "cannot apply migration %d (%s): %s", m->version, m->name, inner);
			free(inner);
			goto fail;
		}
		char now[40];
		rec_format_time((int64_t)time(NULL), now, sizeof now);
		char *sql = sqlite3_mprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, %Q, %Q);"
					    "PRAGMA user_version = %d;", m->version, m->name, now, m->version);
		rc = exec(db, sql, cause);
		sqlite3_free(sql);
		if (rc < 0)
			goto fail;
		db->version = m->version;
		db->applied++;
	}
	return db_commit(db, cause);
fail:
	db_rollback(db);
	return rc;
}

int db_open(const char *path, int flags, struct db **out, char **cause)
{
	*out = NULL;
	struct stat sb;
	int exists = stat(path, &sb) == 0;
	if (!exists && !(flags & DB_OPEN_CREATE))
		return set_cause(cause, "no archive at '%s' (run 'starchive init' first)", path);
	if (!exists && make_parents(path, cause) < 0)
		return -1;
	struct db *db = xcalloc(1, sizeof *db);
	db->path = xstrdup(path);
	db->busy_ms = 10000;
	const char *bt = getenv("STARCHIVE_BUSY_TIMEOUT");
	if (bt && *bt) {
		char *end;
		long v = strtol(bt, &end, 10);
		if (*end == '\0' && v >= 0 && v <= 3600000)
			db->busy_ms = (int)v;
	}
	if (!exists) {
		/* owner only: sinks keep webhook URLs and tokens here (SQLite gives its -wal the same mode) */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (exists ? 0 : SQLITE_OPEN_CREATE);
	int rc = -1;
	if (sqlite3_open_v2(path, &db->h, oflags, NULL) != SQLITE_OK) {
		set_cause(cause, "cannot open database '%s': %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, db->busy_ms);
	/* a file that is not SQLite fails here with a clear "file is not a database" */
	if ((rc = exec(db, "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
		       cause)) < 0) {
		char *inner = *cause;
		*cause = NULL;
		set_cause(cause, "cannot open database '%s': %s", path, inner);
		free(inner);
		goto fail;
	}
	if ((rc = migrate(db, cause)) < 0)
		goto fail;
	*out = db;
	return 0;
fail:
	db_close(db);
	return rc < 0 ? rc : -1;
}

void db_close(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < N_STMT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

int db_schema_version(struct db *db)
{
	return db->version;
}

int db_migrations_applied(struct db *db)
{
	return db->applied;
}

int db_begin(struct db *db, char **cause)
{
	return exec(db, "BEGIN IMMEDIATE", cause);
}

int db_commit(struct db *db, char **cause)
{
	int rc = exec(db, "COMMIT", cause);
	if (rc < 0)
		db_rollback(db);
	return rc;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- vendors, sources, documents ---- */

/* Fast compression: status JSON and HTML shrink 5-10 times even so, and a large page is stored on
 * every capture that changed. */
#define DB_ZLIB_LEVEL 3

int db_vendor_id(struct db *db, const char *name, int create, int64_t now, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_VENDOR_GET, cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		done(st);
		return 1;
	}
	done(st);
	if (r != SQLITE_DONE)
		return fail(db, cause, "cannot read vendors");
	if (!create)
		return 0;
	if (!(st = prep(db, S_VENDOR_ADD, cause, &rc)))
		return rc;
	bind_text(st, 1, name);
	bind_time(st, 2, 1, now);
	if ((rc = run(db, st, cause, "cannot add a vendor")) < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db->h);
	return 1;
}

int db_vendor_set_page(struct db *db, int64_t vendor_id, const struct rec_doc *doc, char **cause)
{
	if (!doc->page_id && !doc->page_name && !doc->page_url && !doc->time_zone)
		return 0;
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_VENDOR_PAGE, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_text(st, 2, doc->page_id);
	bind_text(st, 3, doc->page_name);
	bind_text(st, 4, doc->page_url);
	bind_text(st, 5, doc->time_zone);
	return run(db, st, cause, "cannot update a vendor");
}

int db_source_get(struct db *db, int64_t vendor_id, const char *kind, const char *url, int create, int64_t now,
		  struct db_source *out, char **cause)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_SOURCE_GET, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, url ? url : "");
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
			out->has_last = 1;
			out->last_document_id = sqlite3_column_int64(st, 1);
			col_time(st, 2, &out->last_fetched_at);
		}
		done(st);
		return 1;
	}
	done(st);
	if (r != SQLITE_DONE)
		return fail(db, cause, "cannot read sources");
	if (!create)
		return 0;
	if (!(st = prep(db, S_SOURCE_ADD, cause, &rc)))
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_text(st, 2, kind);
	bind_text(st, 3, url ? url : "");
	bind_time(st, 4, 1, now);
	if ((rc = run(db, st, cause, "cannot add a source")) < 0)
		return rc;
	out->id = sqlite3_last_insert_rowid(db->h);
	return 1;
}

int db_source_advance(struct db *db, int64_t source_id, int64_t doc_id, int64_t fetched_at, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_SOURCE_ADVANCE, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, source_id);
	sqlite3_bind_int64(st, 2, doc_id);
	bind_time(st, 3, 1, fetched_at);
	return run(db, st, cause, "cannot update a source");
}

int db_document_known(struct db *db, int64_t source_id, const char *sha256, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_DOC_KNOWN, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, source_id);
	bind_text(st, 2, sha256);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	done(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(db, cause, "cannot read documents");
	return r == SQLITE_ROW;
}

int db_document_add(struct db *db, const struct db_document *d, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_BLOB_KNOWN, cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, d->sha256);
	int r = sqlite3_step(st);
	done(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(db, cause, "cannot read blobs");
	if (r == SQLITE_DONE) {
		uLongf zlen = compressBound((uLong)d->len);
		unsigned char *z = xmalloc(zlen ? zlen : 1);
		int zok = compress2(z, &zlen, (const Bytef *)d->data, (uLong)d->len, DB_ZLIB_LEVEL) == Z_OK && zlen < d->len;
		if (!(st = prep(db, S_BLOB_ADD, cause, &rc))) {
			free(z);
			return rc;
		}
		bind_text(st, 1, d->sha256);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)d->len);
		bind_text(st, 3, zok ? "zlib" : "identity");
		if (zok)
			sqlite3_bind_blob64(st, 4, z, zlen, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob64(st, 4, d->len ? d->data : "", d->len, SQLITE_TRANSIENT);
		rc = run(db, st, cause, "cannot store a document");
		free(z);
		if (rc < 0)
			return rc;
	}
	if (!(st = prep(db, S_DOC_ADD, cause, &rc)))
		return rc;
	sqlite3_bind_int64(st, 1, d->source_id);
	bind_text(st, 2, d->sha256);
	bind_text(st, 3, d->kind);
	bind_text(st, 4, d->url);
	bind_text(st, 5, d->file_name);
	bind_time(st, 6, 1, d->fetched_at);
	bind_time(st, 7, 1, d->ingested_at);
	if (d->http_status)
		sqlite3_bind_int(st, 8, d->http_status);
	bind_text(st, 9, d->etag);
	bind_text(st, 10, d->last_modified);
	bind_text(st, 11, d->content_type);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)d->n_incidents);
	bind_text(st, 13, d->errors_json);
	if ((rc = run(db, st, cause, "cannot store a document")) < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

int db_document_read(struct db *db, int64_t id, struct buf *out, char **kind, char **url, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_DOC_READ, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		done(st);
		if (r == SQLITE_DONE)
			return set_cause(cause, "no document %lld in the archive", (long long)id);
		return fail(db, cause, "cannot read a document");
	}
	char *sha = col_str(st, 2);
	sqlite3_int64 size = sqlite3_column_int64(st, 3);
	int zlib = str_eq(col_cstr(st, 4), "zlib");
	const void *data = sqlite3_column_blob(st, 5);
	int n = sqlite3_column_bytes(st, 5);
	buf_reset(out);
	rc = 0;
	if (zlib) {
		uLongf len = (uLongf)size;
		unsigned char *plain = xmalloc(size ? (size_t)size : 1);
		if (uncompress(plain, &len, data, (uLong)n) != Z_OK || len != (uLongf)size)
			rc = set_cause(cause, "document %lld: the stored bytes do not decompress", (long long)id);
		else if (buf_add(out, plain, len) < 0)
			rc = set_cause(cause, "document %lld is too large", (long long)id);
		free(plain);
	} else if (buf_add(out, data ? data : "", (size_t)n) < 0) {
		rc = set_cause(cause, "document %lld is too large", (long long)id);
	}
	if (rc == 0) {
		char hex[SHA256_HEX_LEN];
		sha256_hex(out->data ? out->data : "", out->len, hex);
		if (!str_eq(hex, sha))
			rc = set_cause(cause, "document %lld: the stored bytes do not match their SHA-256", (long long)id);
	}
	if (rc == 0) {
		if (kind)
			*kind = col_str(st, 0);
		if (url)
			*url = col_str(st, 1);
	}
	free(sha);
	done(st);
	return rc;
}

/* A component's key in the vendor's list: its id, else its name. */
static char *component_key(const struct rec_component *c)
{
	if (c->id)
		return xstrdup(c->id);
	char *k = xasprintf("name:%s", c->name ? c->name : "");
	for (char *p = k + 5; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	return k;
}

int db_component_note(struct db *db, int64_t vendor_id, const struct rec_component *c, int64_t at, char **cause)
{
	if (!c->id && !c->name)
		return 0;
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_COMP_NOTE, cause, &rc);
	if (!st)
		return rc;
	char *key = component_key(c);
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_text(st, 2, key);
	bind_text(st, 3, c->id);
	bind_text(st, 4, c->name);
	bind_text(st, 5, c->group);
	bind_text(st, 6, c->status);
	bind_text(st, 7, c->status_raw);
	bind_time(st, 8, 1, at);
	free(key);
	return run(db, st, cause, "cannot store a component");
}

/* ---- incidents ---- */

void db_incident_clear(struct db_incident *inc)
{
	free(inc->vendor);
	free(inc->key);
	free(inc->vanished_from);
	rec_incident_clear(&inc->rec);
	memset(inc, 0, sizeof *inc);
}

int db_incident_lookup(struct db *db, int64_t vendor_id, const char *const *keys, size_t n, int64_t *id,
		       char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_KEY_LOOKUP, cause, &rc);
	if (!st)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!keys[i])
			continue;
		sqlite3_bind_int64(st, 1, vendor_id);
		bind_text(st, 2, keys[i]);
		int r = sqlite3_step(st);
		if (r == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		done(st);
		if (r == SQLITE_ROW)
			return 1;
		if (r != SQLITE_DONE)
			return fail(db, cause, "cannot read incident keys");
	}
	return 0;
}

int db_incident_find(struct db *db, const char *vendor, const char *key, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_FIND, cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, vendor);
	bind_text(st, 2, key);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	done(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(db, cause, "cannot read incidents");
	return r == SQLITE_ROW;
}

int db_incident_load(struct db *db, int64_t id, struct db_incident *out, char **cause)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_INC_LOAD, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		done(st);
		if (r == SQLITE_DONE)
			return set_cause(cause, "no incident %lld in the archive", (long long)id);
		return fail(db, cause, "cannot read an incident");
	}
	out->id = id;
	out->vendor_id = sqlite3_column_int64(st, 0);
	out->vendor = col_str(st, 1);
	out->key = col_str(st, 2);
	col_time(st, 3, &out->first_seen_at);
	col_time(st, 4, &out->observed_at);
	col_time(st, 5, &out->changed_at);
	out->has_vanished = col_time(st, 6, &out->vanished_at);
	out->vanished_from = col_str(st, 7);
	out->revisions = sqlite3_column_int(st, 8);
	done(st);

	if (!(st = prep(db, S_PM_LOAD, cause, &rc)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		out->has_pm_seen = col_time(st, 0, &out->pm_seen_at);
		out->has_pm_text_seen = col_time(st, 1, &out->pm_text_seen_at);
	}
	done(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(db, cause, "cannot read a postmortem");

	if (!(st = prep(db, S_INC_LATEST, cause, &rc)))
		return rc;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		done(st);
		if (r == SQLITE_DONE)
			return set_cause(cause, "incident %lld has no revision", (long long)id);
		return fail(db, cause, "cannot read a revision");
	}
	const char *json = col_cstr(st, 0);
	rc = rec_incident_from_json(json, strlen(json ? json : ""), &out->rec, cause);
	done(st);
	return rc;
}

int db_incident_add_key(struct db *db, const struct db_incident *inc, const char *scheme, const char *value,
			char **cause)
{
	if (!value || !*value)
		return 0;
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_KEY_ADD, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, inc->vendor_id);
	bind_text(st, 2, value);
	bind_text(st, 3, scheme);
	sqlite3_bind_int64(st, 4, inc->id);
	return run(db, st, cause, "cannot store an incident key");
}

static int add_search(struct db *db, int64_t id, const char *field, int pos, const char *text, char **cause)
{
	if (!text || !*text)
		return 0;
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_ST_ADD, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, field);
	sqlite3_bind_int(st, 3, pos);
	bind_text(st, 4, text);
	return run(db, st, cause, "cannot index an incident");
}

static int del_rows(struct db *db, enum stmt s, int64_t id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, s, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return run(db, st, cause, "cannot update an incident");
}

int db_incident_write(struct db *db, struct db_incident *inc, const char *json, const char *changes,
		      int64_t seen_at, int64_t doc_id, int64_t *revision_id, char **cause)
{
	const struct rec_incident *r = &inc->rec;
	int rc = 0;
	int is_new = inc->id == 0;
	if (is_new) {
		inc->first_seen_at = seen_at;
		inc->observed_at = seen_at;
	} else if (seen_at > inc->observed_at) {
		inc->observed_at = seen_at;
	}
	inc->changed_at = seen_at;
	inc->revisions++;
	sqlite3_stmt *st = prep(db, is_new ? S_INC_ADD : S_INC_UPDATE, cause, &rc);
	if (!st)
		return rc;
	if (is_new)
		sqlite3_bind_int64(st, 1, inc->vendor_id);
	else
		sqlite3_bind_int64(st, 1, inc->id);
	bind_text(st, 2, inc->key);
	bind_text(st, 3, r->url);
	bind_text(st, 4, r->title);
	bind_text(st, 5, r->kind);
	bind_text(st, 6, r->impact);
	bind_text(st, 7, r->status);
	bind_rtime(st, 8, &r->started);
	bind_rtime(st, 9, &r->resolved);
	bind_rtime(st, 10, &r->updated);
	bind_rtime(st, 11, &r->scheduled_for);
	bind_rtime(st, 12, &r->scheduled_until);
	bind_time(st, 13, 1, inc->first_seen_at);
	bind_time(st, 14, 1, inc->observed_at);
	bind_time(st, 15, 1, inc->changed_at);
	sqlite3_bind_int(st, 16, inc->revisions);
	if ((rc = run(db, st, cause, "cannot store an incident")) < 0)
		return rc;
	if (is_new)
		inc->id = sqlite3_last_insert_rowid(db->h);

	if ((rc = db_incident_add_key(db, inc, "key", inc->key, cause)) < 0)
		return rc;
	for (size_t i = 0; i < r->n_ids; i++)
		if ((rc = db_incident_add_key(db, inc, r->ids[i].scheme, r->ids[i].value, cause)) < 0)
			return rc;
	if ((rc = db_incident_add_key(db, inc, "url", r->url, cause)) < 0 ||
	    (rc = db_incident_add_key(db, inc, "source_url", r->source_url, cause)) < 0)
		return rc;

	if (!(st = prep(db, S_REV_ADD, cause, &rc)))
		return rc;
	sqlite3_bind_int64(st, 1, inc->id);
	sqlite3_bind_int(st, 2, inc->revisions);
	bind_time(st, 3, 1, seen_at);
	bind_id(st, 4, doc_id);
	bind_text(st, 5, changes ? changes : "");
	bind_text(st, 6, json);
	if ((rc = run(db, st, cause, "cannot store a revision")) < 0)
		return rc;
	if (revision_id)
		*revision_id = sqlite3_last_insert_rowid(db->h);

	/* the projections follow the new version */
	if (!is_new && ((rc = del_rows(db, S_UPD_DEL, inc->id, cause)) < 0 ||
			(rc = del_rows(db, S_IC_DEL, inc->id, cause)) < 0 ||
			(rc = del_rows(db, S_ST_DEL, inc->id, cause)) < 0))
		return rc;
	for (size_t i = 0; i < r->n_updates; i++) {
		const struct rec_update *u = &r->updates[i];
		if (!(st = prep(db, S_UPD_ADD, cause, &rc)))
			return rc;
		sqlite3_bind_int64(st, 1, inc->id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		bind_text(st, 3, u->id);
		bind_text(st, 4, u->status);
		bind_text(st, 5, u->status_raw);
		bind_rtime(st, 6, &u->at);
		bind_text(st, 7, u->body);
		bind_text(st, 8, u->body_html);
		if ((rc = run(db, st, cause, "cannot store an update")) < 0)
			return rc;
		if ((rc = add_search(db, inc->id, "update", (int)i + 1, u->body, cause)) < 0)
			return rc;
	}
	for (size_t i = 0; i < r->n_components; i++) {
		const struct rec_component *c = &r->components[i];
		if (!c->id && !c->name)
			continue;
		if (!(st = prep(db, S_COMP_UPSERT, cause, &rc)))
			return rc;
		char *key = component_key(c);
		sqlite3_bind_int64(st, 1, inc->vendor_id);
		bind_text(st, 2, key);
		bind_text(st, 3, c->id);
		bind_text(st, 4, c->name);
		bind_text(st, 5, c->group);
		free(key);
		int s = sqlite3_step(st);
		int64_t cid = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		if (s == SQLITE_ROW)
			s = sqlite3_step(st);
		done(st);
		if (s != SQLITE_DONE)
			return fail(db, cause, "cannot store a component");
		if (!(st = prep(db, S_IC_ADD, cause, &rc)))
			return rc;
		sqlite3_bind_int64(st, 1, inc->id);
		sqlite3_bind_int64(st, 2, cid);
		if ((rc = run(db, st, cause, "cannot store a component")) < 0)
			return rc;
	}
	if (r->postmortem) {
		if (!inc->has_pm_seen) {
			inc->has_pm_seen = 1;
			inc->pm_seen_at = seen_at;
		}
		if (r->postmortem->body && !inc->has_pm_text_seen) {
			inc->has_pm_text_seen = 1;
			inc->pm_text_seen_at = seen_at;
		}
		if (!(st = prep(db, S_PM_PUT, cause, &rc)))
			return rc;
		sqlite3_bind_int64(st, 1, inc->id);
		bind_text(st, 2, r->postmortem->body);
		bind_text(st, 3, r->postmortem->body_html);
		bind_rtime(st, 4, &r->postmortem->published);
		bind_time(st, 5, 1, inc->pm_seen_at);
		bind_time(st, 6, inc->has_pm_text_seen, inc->pm_text_seen_at);
		bind_time(st, 7, 1, seen_at);
		if ((rc = run(db, st, cause, "cannot store a postmortem")) < 0)
			return rc;
		if ((rc = add_search(db, inc->id, "postmortem", 0, r->postmortem->body, cause)) < 0)
			return rc;
	}
	return add_search(db, inc->id, "title", 0, r->title, cause);
}

int db_incident_observed(struct db *db, int64_t id, int64_t at, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_INC_OBSERVED, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_time(st, 2, 1, at);
	return run(db, st, cause, "cannot update an incident");
}

int db_incident_set_vanished(struct db *db, int64_t id, int64_t at, const char *from, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_INC_VANISHED, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_time(st, 2, at >= 0, at);
	bind_text(st, 3, at >= 0 ? from : NULL);
	return run(db, st, cause, "cannot update an incident");
}

int db_incident_times(struct db *db, int64_t id, int *has_started, int64_t *started, int *has_updated,
		      int64_t *updated, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_INC_TIMES, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	int r = sqlite3_step(st);
	*has_started = *has_updated = 0;
	if (r == SQLITE_ROW) {
		*has_started = col_time(st, 0, started);
		*has_updated = col_time(st, 1, updated);
	}
	done(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		return fail(db, cause, "cannot read an incident");
	return 0;
}

/* ---- listings ---- */

int db_listings_load(struct db *db, int64_t source_id, struct db_listing **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_LIST_LOAD, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, source_id);
	size_t alloc = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == alloc) {
			alloc = alloc ? alloc * 2 : 64;
			*out = xreallocarray(*out, alloc, sizeof **out);
		}
		struct db_listing *l = &(*out)[(*n)++];
		memset(l, 0, sizeof *l);
		l->incident_id = sqlite3_column_int64(st, 0);
		l->key = col_str(st, 1);
		const char *h = col_cstr(st, 2);
		snprintf(l->sha256, sizeof l->sha256, "%s", h ? h : "");
		l->listed = sqlite3_column_int(st, 3);
	}
	done(st);
	if (r != SQLITE_DONE) {
		db_listings_free(*out, *n);
		*out = NULL;
		*n = 0;
		return fail(db, cause, "cannot read listings");
	}
	return 0;
}

void db_listings_free(struct db_listing *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].key);
	free(l);
}

int db_listing_put(struct db *db, int64_t source_id, const struct db_listing *l, int64_t doc_id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_LIST_PUT, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, source_id);
	sqlite3_bind_int64(st, 2, l->incident_id);
	bind_text(st, 3, l->key);
	bind_text(st, 4, l->sha256);
	sqlite3_bind_int(st, 5, l->listed);
	bind_id(st, 6, doc_id);
	return run(db, st, cause, "cannot store a listing");
}

int db_listing_set_listed(struct db *db, int64_t source_id, int64_t incident_id, int listed, int64_t doc_id,
			  char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_LIST_LISTED, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, source_id);
	sqlite3_bind_int64(st, 2, incident_id);
	sqlite3_bind_int(st, 3, listed);
	bind_id(st, 4, doc_id);
	return run(db, st, cause, "cannot store a listing");
}

/* ---- events ---- */

int db_event_add(struct db *db, const struct db_event *ev, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_EVENT_ADD, cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, ev->type);
	bind_text(st, 2, ev->vendor);
	bind_text(st, 3, ev->incident_key);
	bind_id(st, 4, ev->incident_id);
	bind_time(st, 5, 1, ev->created_at);
	bind_time(st, 6, ev->observed_at != 0, ev->observed_at);
	bind_id(st, 7, ev->document_id);
	bind_id(st, 8, ev->revision_id);
	bind_text(st, 9, ev->payload ? ev->payload : "{}");
	if ((rc = run(db, st, cause, "cannot store an event")) < 0)
		return rc;
	if (id)
		*id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

#define EVENT_COLS "e.id, e.type, e.vendor, e.incident_key, e.incident_id, e.created_at, e.observed_at," \
		   " e.document_id, e.revision_id, i.title, e.payload," \
		   " (SELECT coalesce(nullif(v.title, ''), v.page_name) FROM vendors v WHERE v.name = e.vendor)"
#define EVENT_FROM " FROM events e LEFT JOIN incidents i ON i.id = e.incident_id"

/* An event from EVENT_COLS starting at column c; its strings live until the next step. */
static void event_row(sqlite3_stmt *st, int c, struct db_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->id = sqlite3_column_int64(st, c);
	ev->type = col_cstr(st, c + 1);
	ev->vendor = col_cstr(st, c + 2);
	ev->incident_key = col_cstr(st, c + 3);
	ev->incident_id = sqlite3_column_int64(st, c + 4);
	col_time(st, c + 5, &ev->created_at);
	col_time(st, c + 6, &ev->observed_at);
	ev->document_id = sqlite3_column_int64(st, c + 7);
	ev->revision_id = sqlite3_column_int64(st, c + 8);
	ev->title = col_cstr(st, c + 9);
	ev->payload = col_cstr(st, c + 10);
	ev->vendor_title = col_cstr(st, c + 11);
}

int db_events_each(struct db *db, const struct db_event_filter *f,
		   int (*fn)(const struct db_event *ev, void *arg), void *arg, char **cause)
{
	struct buf sql = BUF_INIT;
	buf_adds(&sql, "SELECT " EVENT_COLS EVENT_FROM " WHERE e.id > ?1");
	if (f->has_since)
		buf_adds(&sql, " AND e.created_at >= ?2");
	if (f->type && str_ends(f->type, "."))
		buf_adds(&sql, " AND substr(e.type, 1, length(?3)) = ?3");
	else if (f->type)
		buf_adds(&sql, " AND e.type = ?3");
	if (f->vendor)
		buf_adds(&sql, " AND e.vendor = ?4 COLLATE NOCASE");
	if (f->incident_id)
		buf_adds(&sql, " AND e.incident_id = ?5");
	if (f->id)
		buf_adds(&sql, " AND e.id = ?6");
	buf_adds(&sql, " ORDER BY e.id");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql.data, -1, &st, NULL) != SQLITE_OK) {
		buf_release(&sql);
		return fail(db, cause, "cannot read events");
	}
	buf_release(&sql);
	sqlite3_bind_int64(st, 1, f->after_id);
	if (f->has_since)
		bind_time(st, 2, 1, f->since);
	bind_text(st, 3, f->type);
	bind_text(st, 4, f->vendor);
	sqlite3_bind_int64(st, 5, f->incident_id);
	sqlite3_bind_int64(st, 6, f->id);
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_event ev;
		event_row(st, 0, &ev);
		if ((rc = fn(&ev, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = fail(db, cause, "cannot read events");
	sqlite3_finalize(st);
	return rc;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int copy_event(const struct db_event *ev, void *arg)
{
	struct db_event_copy *c = arg;
	c->ev = *ev;
	c->ev.type = c->type = xstrdup(ev->type);
	c->ev.vendor = c->vendor = xstrdup(ev->vendor);
	c->ev.incident_key = c->incident_key = dup_or_null(ev->incident_key);
	c->ev.title = c->title = dup_or_null(ev->title);
	c->ev.payload = c->payload = dup_or_null(ev->payload);
	c->ev.vendor_title = c->vendor_title = dup_or_null(ev->vendor_title);
	return 1;
}

int db_event_load(struct db *db, int64_t id, struct db_event_copy *out, char **cause)
{
	memset(out, 0, sizeof *out);
	struct db_event_filter f = { 0 };
	f.id = id;
	int rc = db_events_each(db, &f, copy_event, out, cause);
	return rc < 0 ? rc : out->type != NULL;
}

void db_event_copy_clear(struct db_event_copy *c)
{
	free(c->type);
	free(c->vendor);
	free(c->incident_key);
	free(c->title);
	free(c->payload);
	free(c->vendor_title);
	memset(c, 0, sizeof *c);
}

/* ---- history, search, export ---- */

int db_revisions_each(struct db *db, int64_t incident_id, int (*fn)(const struct db_revision *r, void *arg),
		      void *arg, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep(db, S_REVS, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, incident_id);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_revision rev = { 0 };
		rev.number = sqlite3_column_int(st, 0);
		col_time(st, 1, &rev.seen_at);
		rev.document_id = sqlite3_column_int64(st, 2);
		rev.doc_kind = col_cstr(st, 3);
		rev.doc_url = col_cstr(st, 4);
		rev.doc_file = col_cstr(st, 5);
		rev.changes = col_cstr(st, 6);
		rev.json = col_cstr(st, 7);
		if ((rc = fn(&rev, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = fail(db, cause, "cannot read revisions");
	done(st);
	return rc;
}

/* Plain words as an FTS5 query: each word a quoted phrase, all required. */
static char *fts_query(const char *text)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	const char *p = text;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		const char *s = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		int word = 0;
		for (const char *q = s; q < p; q++)
			if ((unsigned char)*q >= 0x80 || (*q >= '0' && *q <= '9') || ((*q | 32) >= 'a' && (*q | 32) <= 'z'))
				word = 1;
		if (!word)
			continue;
		if (b.len)
			buf_addc(&b, ' ');
		buf_addc(&b, '"');
		for (const char *q = s; q < p; q++) {
			if (*q == '"')
				buf_addc(&b, '"');
			buf_addc(&b, *q);
		}
		buf_addc(&b, '"');
	}
	return buf_detach(&b);
}

int db_search(struct db *db, const char *text, int raw, const char *vendor, size_t limit,
	      int (*fn)(const struct db_hit *h, void *arg), void *arg, char **cause)
{
	char *q = raw ? xstrdup(text) : fts_query(text);
	if (!*q) {
		free(q);
		return set_cause(cause, "nothing to search for in '%s'", text);
	}
	const char *sql = "SELECT v.name, i.key, i.title, s.field, s.position,"
			  " snippet(search, 0, char(1), char(2), '...', 16), i.started_at, i.id"
			  " FROM search JOIN search_text s ON s.id = search.rowid"
			  " JOIN incidents i ON i.id = s.incident_id JOIN vendors v ON v.id = i.vendor_id"
			  " WHERE search MATCH ?1 AND (?2 IS NULL OR v.name = ?2 COLLATE NOCASE)"
			  " ORDER BY rank, i.id, s.id";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		free(q);
		return fail(db, cause, "cannot search");
	}
	bind_text(st, 1, q);
	bind_text(st, 2, vendor);
	int64_t *seen = NULL;
	size_t nseen = 0;
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t iid = sqlite3_column_int64(st, 7);
		size_t k = 0;
		while (k < nseen && seen[k] != iid)
			k++;
		if (k < nseen)
			continue; /* one hit per incident: its best */
		seen = xreallocarray(seen, nseen + 1, sizeof *seen);
		seen[nseen++] = iid;
		struct db_hit h = { 0 };
		h.vendor = col_cstr(st, 0);
		h.key = col_cstr(st, 1);
		h.title = col_cstr(st, 2);
		h.field = col_cstr(st, 3);
		h.position = sqlite3_column_int(st, 4);
		h.snippet = col_cstr(st, 5);
		h.has_started = col_time(st, 6, &h.started_at);
		if ((rc = fn(&h, arg)) != 0 || (limit && nseen >= limit))
			break;
	}
	if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW) {
		rc = fail(db, cause, "cannot search");
		if (raw && rc == -1) {
			char *inner = *cause;
			*cause = NULL;
			set_cause(cause, "invalid search '%s': %s", text, inner);
			free(inner);
		}
	}
	free(seen);
	free(q);
	sqlite3_finalize(st);
	return rc;
}

int db_incidents_each(struct db *db, const struct db_incident_filter *f,
		      int (*fn)(const struct db_incident *inc, void *arg), void *arg, char **cause)
{
	const char *sql = "SELECT i.id FROM incidents i JOIN vendors v ON v.id = i.vendor_id"
			  " WHERE (?1 IS NULL OR v.name = ?1 COLLATE NOCASE)"
			  " AND (?2 IS NULL OR coalesce(i.started_at, i.first_seen_at) >= ?2)"
			  " AND (?3 IS NULL OR coalesce(i.started_at, i.first_seen_at) < ?3)"
			  " AND (?4 IS NULL OR i.kind = ?4) AND (?5 IS NULL OR i.status = ?5)"
			  " ORDER BY v.name COLLATE NOCASE, coalesce(i.started_at, i.first_seen_at), i.id";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, cause, "cannot read incidents");
	bind_text(st, 1, f->vendor);
	bind_time(st, 2, f->has_since, f->since);
	bind_time(st, 3, f->has_until, f->until);
	bind_text(st, 4, f->kind);
	bind_text(st, 5, f->status);
	int64_t *ids = NULL;
	size_t n = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		ids = xreallocarray(ids, n + 1, sizeof *ids);
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	int rc = r == SQLITE_DONE ? 0 : fail(db, cause, "cannot read incidents");
	sqlite3_finalize(st);
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct db_incident inc;
		rc = db_incident_load(db, ids[i], &inc, cause);
		if (rc == 0)
			rc = fn(&inc, arg);
		db_incident_clear(&inc);
	}
	free(ids);
	return rc;
}

static int collect_rows(struct db *db, const char *sql, struct buf *b, const char *skip, char **cause)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, cause, "cannot check the archive");
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int n = sqlite3_column_count(st);
		struct buf row = BUF_INIT;
		buf_add(&row, "", 0);
		for (int i = 0; i < n; i++) {
			const char *v = col_cstr(st, i);
			buf_addf(&row, "%s%s", i ? " " : "", v ? v : "NULL");
		}
		if (!skip || strcmp(row.data, skip) != 0)
			buf_addf(b, "%s\n", row.data);
		buf_release(&row);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE)
		return fail(db, cause, "cannot check the archive");
	return 0;
}

char *db_check(struct db *db, char **cause)
{
	struct buf b = BUF_INIT;
	buf_add(&b, "", 0);
	if (collect_rows(db, "PRAGMA integrity_check", &b, "ok", cause) < 0 ||
	    collect_rows(db, "PRAGMA foreign_key_check", &b, NULL, cause) < 0 ||
	    collect_rows(db, "INSERT INTO search(search, rank) VALUES ('integrity-check', 1)", &b, NULL, cause) < 0) {
		buf_release(&b);
		return NULL;
	}
	if (!b.len)
		buf_adds(&b, "ok");
	return buf_detach(&b);
}

int db_query(struct db *db, const char *sql, int (*fn)(int ncols, const char *const *cols, void *arg), void *arg,
	     char **cause)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
		return fail(db, cause, "invalid query");
	int n = sqlite3_column_count(st);
	const char **cols = xcalloc((size_t)n + 1, sizeof *cols);
	int r, rc = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			cols[i] = col_cstr(st, i);
		if ((rc = fn(n, cols, arg)) != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = fail(db, cause, "query failed");
	free(cols);
	sqlite3_finalize(st);
	return rc;
}

/* ---- sync: polled vendors, their sources' fetch state, runs, revisits ---- */

/* A one-off statement (sync's statements run a few times a run, not per incident). */
static sqlite3_stmt *prep1(struct db *db, const char *sql, char **cause, int *rc)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		*rc = fail(db, cause, "cannot prepare a statement");
		return NULL;
	}
	return st;
}

static int step1(struct db *db, sqlite3_stmt *st, char **cause, const char *what)
{
	int r = sqlite3_step(st);
	int rc = (r == SQLITE_DONE || r == SQLITE_ROW) ? 0 : fail(db, cause, what);
	sqlite3_finalize(st);
	return rc;
}

void db_vendor_clear(struct db_vendor *v)
{
	free(v->name);
	free(v->title);
	free(v->url);
	free(v->platform);
	free(v->last_error);
	memset(v, 0, sizeof *v);
}

void db_vendors_free(struct db_vendor *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		db_vendor_clear(&v[i]);
	free(v);
}

int db_vendor_register(struct db *db, const char *name, const char *title, const char *url, const char *platform,
		       int64_t now, int64_t *id, char **cause)
{
	int rc = db_vendor_id(db, name, 1, now, id, cause);
	if (rc < 0)
		return rc;
	rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE vendors SET title = coalesce(?2, title), status_url = ?3, platform = ?4,"
				     " polled = 1 WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, *id);
	bind_text(st, 2, title);
	bind_text(st, 3, url);
	bind_text(st, 4, platform);
	return step1(db, st, cause, "cannot register the vendor");
}

int db_vendor_unpoll(struct db *db, const char *name, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE vendors SET polled = 0 WHERE name = ?1", cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	if ((rc = step1(db, st, cause, "cannot remove the vendor")) < 0)
		return rc;
	if (sqlite3_changes(db->h) == 0)
		return 0;
	st = prep1(db, "UPDATE sources SET polled = 0 WHERE vendor_id = (SELECT id FROM vendors WHERE name = ?1)",
		   cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	return step1(db, st, cause, "cannot remove the vendor's sources") < 0 ? -1 : 1;
}

#define VENDOR_COLS "v.id, v.name, v.title, v.status_url, v.platform, v.polled, v.failures, v.broken," \
		    " v.next_at, v.last_ok_at, v.last_try_at, v.last_error," \
		    " (SELECT count(*) FROM incidents i WHERE i.vendor_id = v.id)"

static void vendor_row(sqlite3_stmt *st, struct db_vendor *v)
{
	memset(v, 0, sizeof *v);
	v->id = sqlite3_column_int64(st, 0);
	v->name = col_str(st, 1);
	v->title = col_str(st, 2);
	v->url = col_str(st, 3);
	v->platform = col_str(st, 4);
	v->polled = sqlite3_column_int(st, 5);
	v->failures = sqlite3_column_int(st, 6);
	v->broken = sqlite3_column_int(st, 7);
	v->has_next_at = col_time(st, 8, &v->next_at);
	v->has_last_ok = col_time(st, 9, &v->last_ok_at);
	v->has_last_try = col_time(st, 10, &v->last_try_at);
	v->last_error = col_str(st, 11);
	v->incidents = sqlite3_column_int64(st, 12);
}

int db_vendors_load(struct db *db, int polled_only, struct db_vendor **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	int rc = 0;
	sqlite3_stmt *st = prep1(db, polled_only ? "SELECT " VENDOR_COLS " FROM vendors v WHERE v.polled ORDER BY v.name"
						 : "SELECT " VENDOR_COLS " FROM vendors v ORDER BY v.name",
				 cause, &rc);
	if (!st)
		return rc;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		vendor_row(st, &(*out)[(*n)++]);
	}
	if (r != SQLITE_DONE)
		rc = fail(db, cause, "cannot list vendors");
	sqlite3_finalize(st);
	return rc;
}

int db_vendor_load(struct db *db, const char *name, struct db_vendor *out, char **cause)
{
	memset(out, 0, sizeof *out);
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "SELECT " VENDOR_COLS " FROM vendors v WHERE v.name = ?1", cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		vendor_row(st, out);
		rc = 1;
	} else if (r != SQLITE_DONE) {
		rc = fail(db, cause, "cannot read the vendor");
	}
	sqlite3_finalize(st);
	return rc;
}

int db_vendor_save_health(struct db *db, const struct db_vendor *v, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE vendors SET failures = ?2, broken = ?3, next_at = ?4, last_ok_at = ?5,"
				     " last_try_at = ?6, last_error = ?7 WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, v->id);
	sqlite3_bind_int(st, 2, v->failures);
	sqlite3_bind_int(st, 3, v->broken);
	bind_time(st, 4, v->has_next_at, v->next_at);
	bind_time(st, 5, v->has_last_ok, v->last_ok_at);
	bind_time(st, 6, v->has_last_try, v->last_try_at);
	bind_text(st, 7, v->last_error);
	return step1(db, st, cause, "cannot save the vendor's health");
}

int db_poll_source_add(struct db *db, int64_t vendor_id, const char *kind, const char *url, int64_t now,
		       char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT INTO sources (vendor_id, kind, url, created_at, polled)"
				     " VALUES (?1, ?2, ?3, ?4, 1)"
				     " ON CONFLICT (vendor_id, kind, url) DO UPDATE SET polled = 1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_text(st, 2, kind ? kind : "");
	bind_text(st, 3, url ? url : "");
	bind_time(st, 4, 1, now);
	return step1(db, st, cause, "cannot add the source");
}

int db_poll_sources_reset(struct db *db, int64_t vendor_id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE sources SET polled = 0 WHERE vendor_id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	return step1(db, st, cause, "cannot reset the vendor's sources");
}

void db_poll_sources_free(struct db_poll_source *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].kind);
		free(s[i].url);
		free(s[i].etag);
		free(s[i].last_modified);
		free(s[i].last_error);
	}
	free(s);
}

int db_poll_sources_load(struct db *db, int64_t vendor_id, struct db_poll_source **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "SELECT id, vendor_id, kind, url, etag, last_modified, last_status, next_at,"
				     " last_ok_at, last_error FROM sources WHERE vendor_id = ?1 AND polled ORDER BY id",
				 cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		struct db_poll_source *s = &(*out)[(*n)++];
		memset(s, 0, sizeof *s);
		s->id = sqlite3_column_int64(st, 0);
		s->vendor_id = sqlite3_column_int64(st, 1);
		s->kind = col_str(st, 2);
		if (s->kind && !*s->kind) {
			free(s->kind);
			s->kind = NULL;
		}
		s->url = col_str(st, 3);
		s->etag = col_str(st, 4);
		s->last_modified = col_str(st, 5);
		s->last_status = sqlite3_column_int(st, 6);
		s->has_next_at = col_time(st, 7, &s->next_at);
		s->has_last_ok = col_time(st, 8, &s->last_ok_at);
		s->last_error = col_str(st, 9);
	}
	if (r != SQLITE_DONE)
		rc = fail(db, cause, "cannot list the vendor's sources");
	sqlite3_finalize(st);
	return rc;
}

int db_poll_source_save(struct db *db, const struct db_poll_source *s, int64_t now, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE sources SET etag = ?2, last_modified = ?3, last_status = ?4, next_at = ?5,"
				     " last_ok_at = ?6, last_error = ?7, last_try_at = ?8 WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, s->id);
	bind_text(st, 2, s->etag);
	bind_text(st, 3, s->last_modified);
	sqlite3_bind_int(st, 4, s->last_status);
	bind_time(st, 5, s->has_next_at, s->next_at);
	bind_time(st, 6, s->has_last_ok, s->last_ok_at);
	bind_text(st, 7, s->last_error);
	bind_time(st, 8, 1, now);
	return step1(db, st, cause, "cannot save the source's state");
}

void db_revisits_free(struct db_revisit *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		free(r[i].url);
	}
	free(r);
}

int db_revisits_due(struct db *db, int64_t vendor_id, int64_t now, const int64_t *offsets, size_t n_offsets,
		    size_t limit, struct db_revisit **out, size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	if (!n_offsets)
		return 0;
	int rc = 0;
	/* NOTE: only incidents resolved within the schedule's reach are read, oldest resolution first */
	sqlite3_stmt *st = prep1(db, "SELECT i.id, i.key, i.url, i.resolved_at, r.step FROM incidents i"
				     " LEFT JOIN revisits r ON r.incident_id = i.id"
				     " WHERE i.vendor_id = ?1 AND i.resolved_at IS NOT NULL AND i.url IS NOT NULL"
				     " AND i.resolved_at >= ?2 AND i.resolved_at <= ?3 ORDER BY i.resolved_at",
				 cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	bind_time(st, 2, 1, now - offsets[n_offsets - 1] - 86400);
	bind_time(st, 3, 1, now - offsets[0]);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < limit) {
		int64_t resolved;
		if (!col_time(st, 3, &resolved))
			continue;
		int done_step = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 4);
		int due = -1;
		for (size_t k = 0; k < n_offsets; k++)
			if (resolved + offsets[k] <= now)
				due = (int)k;
		if (due < 0 || due <= done_step)
			continue;
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		struct db_revisit *v = &(*out)[(*n)++];
		v->incident_id = sqlite3_column_int64(st, 0);
		v->key = col_str(st, 1);
		v->url = col_str(st, 2);
		v->resolved_at = resolved;
		v->step = due;
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		rc = fail(db, cause, "cannot list revisits");
	sqlite3_finalize(st);
	return rc;
}

int db_revisit_done(struct db *db, int64_t incident_id, int step, int64_t at, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT INTO revisits (incident_id, step, last_at) VALUES (?1, ?2, ?3)"
				     " ON CONFLICT (incident_id) DO UPDATE SET step = max(step, ?2), last_at = ?3",
				 cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, incident_id);
	sqlite3_bind_int(st, 2, step);
	bind_time(st, 3, 1, at);
	return step1(db, st, cause, "cannot record the revisit");
}

int db_run_start(struct db *db, int64_t now, int64_t *id, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT INTO runs (started_at) VALUES (?1)", cause, &rc);
	if (!st)
		return rc;
	bind_time(st, 1, 1, now);
	if ((rc = step1(db, st, cause, "cannot record the run")) == 0)
		*id = sqlite3_last_insert_rowid(db->h);
	return rc;
}

int db_run_vendor(struct db *db, int64_t run_id, int64_t vendor_id, const char *outcome, const char *detail,
		  int fetched, int not_modified, int events, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT OR REPLACE INTO run_vendors (run_id, vendor_id, outcome, detail, fetched,"
				     " not_modified, events) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, vendor_id);
	bind_text(st, 3, outcome);
	bind_text(st, 4, detail);
	sqlite3_bind_int(st, 5, fetched);
	sqlite3_bind_int(st, 6, not_modified);
	sqlite3_bind_int(st, 7, events);
	return step1(db, st, cause, "cannot record the vendor's run");
}

int db_run_finish(struct db *db, int64_t run_id, int64_t at, int status, int vendors, int failed,
		  const char *report, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE runs SET finished_at = ?2, status = ?3, vendors = ?4, failed = ?5,"
				     " report = ?6 WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, run_id);
	bind_time(st, 2, 1, at);
	sqlite3_bind_int(st, 3, status);
	sqlite3_bind_int(st, 4, vendors);
	sqlite3_bind_int(st, 5, failed);
	bind_text(st, 6, report);
	return step1(db, st, cause, "cannot finish the run");
}

void db_page_refs_free(struct db_page_ref *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		free(r[i].url);
	}
	free(r);
}

int db_incidents_without_timeline(struct db *db, int64_t vendor_id, size_t limit, struct db_page_ref **out,
				  size_t *n, char **cause)
{
	*out = NULL;
	*n = 0;
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "SELECT i.id, i.key, i.url FROM incidents i WHERE i.vendor_id = ?1"
				     " AND i.url IS NOT NULL AND NOT EXISTS (SELECT 1 FROM updates u"
				     " WHERE u.incident_id = i.id AND u.status IS NOT NULL)"
				     " ORDER BY i.started_at, i.id LIMIT ?2", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, vendor_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		struct db_page_ref *p = &(*out)[(*n)++];
		p->incident_id = sqlite3_column_int64(st, 0);
		p->key = col_str(st, 1);
		p->url = col_str(st, 2);
	}
	if (r != SQLITE_DONE)
		rc = fail(db, cause, "cannot list incidents without a timeline");
	sqlite3_finalize(st);
	return rc;
}

/* ---- alerts: sinks and deliveries ---- */

int db_archive_id(struct db *db, char **out, char **cause)
{
	int rc = 0;
	*out = NULL;
	sqlite3_stmt *st = prep1(db, "SELECT value FROM archive_info WHERE key = 'archive_id'", cause, &rc);
	if (!st)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = col_str(st, 0);
	sqlite3_finalize(st);
	if (!*out)
		return set_cause(cause, "the archive has no id (archive_info is empty)");
	return 0;
}

void db_sink_clear(struct db_sink *s)
{
	free(s->name);
	free(s->kind);
	free(s->target);
	free(s->config);
	free(s->types);
	free(s->vendors);
	free(s->min_impact);
	memset(s, 0, sizeof *s);
}

void db_sinks_free(struct db_sink *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		db_sink_clear(&s[i]);
	free(s);
}

int db_sink_add(struct db *db, struct db_sink *s, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT INTO sinks (name, kind, target, config, types, vendors, min_impact,"
				     " created_at, cursor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, s->name);
	bind_text(st, 2, s->kind);
	bind_text(st, 3, s->target);
	bind_text(st, 4, s->config ? s->config : "{}");
	bind_text(st, 5, s->types);
	bind_text(st, 6, s->vendors);
	bind_text(st, 7, s->min_impact);
	bind_time(st, 8, 1, s->created_at);
	sqlite3_bind_int64(st, 9, s->cursor);
	int r = sqlite3_step(st);
	if ((r & 0xff) == SQLITE_CONSTRAINT) {
		sqlite3_finalize(st);
		return set_cause(cause, "a sink named '%s' already exists", s->name);
	}
	if (r != SQLITE_DONE) {
		rc = fail(db, cause, "cannot add the sink");
		sqlite3_finalize(st);
		return rc;
	}
	sqlite3_finalize(st);
	s->id = sqlite3_last_insert_rowid(db->h);
	return 0;
}

#define SINK_COLS "id, name, kind, target, config, types, vendors, min_impact, created_at, cursor, down_until"

static void sink_row(sqlite3_stmt *st, struct db_sink *s)
{
	memset(s, 0, sizeof *s);
	s->id = sqlite3_column_int64(st, 0);
	s->name = col_str(st, 1);
	s->kind = col_str(st, 2);
	s->target = col_str(st, 3);
	s->config = col_str(st, 4);
	s->types = col_str(st, 5);
	s->vendors = col_str(st, 6);
	s->min_impact = col_str(st, 7);
	col_time(st, 8, &s->created_at);
	s->cursor = sqlite3_column_int64(st, 9);
	s->has_down = col_time(st, 10, &s->down_until);
}

int db_sinks_load(struct db *db, struct db_sink **out, size_t *n, char **cause)
{
	int rc = 0;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = prep1(db, "SELECT " SINK_COLS " FROM sinks ORDER BY name", cause, &rc);
	if (!st)
		return rc;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		sink_row(st, &(*out)[(*n)++]);
	}
	if (r != SQLITE_DONE) {
		rc = fail(db, cause, "cannot read sinks");
		db_sinks_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

int db_sink_load(struct db *db, const char *name, struct db_sink *out, char **cause)
{
	int rc = 0;
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = prep1(db, "SELECT " SINK_COLS " FROM sinks WHERE name = ?1", cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		sink_row(st, out);
		rc = 1;
	} else if (r != SQLITE_DONE) {
		rc = fail(db, cause, "cannot read the sink");
	}
	sqlite3_finalize(st);
	return rc;
}

int db_sink_remove(struct db *db, const char *name, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "DELETE FROM sinks WHERE name = ?1", cause, &rc);
	if (!st)
		return rc;
	bind_text(st, 1, name);
	if ((rc = step1(db, st, cause, "cannot remove the sink")) < 0)
		return rc;
	return sqlite3_changes(db->h) > 0;
}

int db_sink_set_cursor(struct db *db, int64_t sink_id, int64_t cursor, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE sinks SET cursor = max(cursor, ?2) WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	sqlite3_bind_int64(st, 2, cursor);
	return step1(db, st, cause, "cannot update the sink");
}

int db_sink_set_down(struct db *db, int64_t sink_id, int down, int64_t until, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE sinks SET down_until = ?2 WHERE id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	bind_time(st, 2, down, until);
	return step1(db, st, cause, "cannot update the sink");
}

static const char *const delivery_states[] = { "pending", "delivered", "held", "failed" };

static enum db_delivery_state delivery_state(const char *s)
{
	for (size_t i = 0; i < sizeof delivery_states / sizeof *delivery_states; i++)
		if (str_eq(s, delivery_states[i]))
			return (enum db_delivery_state)i;
	return DB_DELIVERY_PENDING;
}

int db_delivery_add(struct db *db, int64_t event_id, int64_t sink_id, const char *key,
		    enum db_delivery_state state, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "INSERT OR IGNORE INTO deliveries (event_id, sink_id, key, state)"
				     " VALUES (?1, ?2, ?3, ?4)", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, event_id);
	sqlite3_bind_int64(st, 2, sink_id);
	bind_text(st, 3, key);
	bind_text(st, 4, delivery_states[state]);
	return step1(db, st, cause, "cannot record a delivery");
}

void db_deliveries_free(struct db_delivery *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(d[i].sink);
		free(d[i].key);
		free(d[i].last_error);
	}
	free(d);
}

#define DELIVERY_COLS "d.event_id, d.sink_id, s.name, d.key, d.state, d.attempts, d.next_at, d.last_try_at," \
		      " d.last_error, d.delivered_at, d.refusals"

static void delivery_row(sqlite3_stmt *st, struct db_delivery *d)
{
	memset(d, 0, sizeof *d);
	d->event_id = sqlite3_column_int64(st, 0);
	d->sink_id = sqlite3_column_int64(st, 1);
	d->sink = col_str(st, 2);
	d->key = col_str(st, 3);
	d->state = delivery_state(col_cstr(st, 4));
	d->attempts = sqlite3_column_int(st, 5);
	d->has_next = col_time(st, 6, &d->next_at);
	d->has_last_try = col_time(st, 7, &d->last_try_at);
	d->last_error = col_str(st, 8);
	d->has_delivered = col_time(st, 9, &d->delivered_at);
	d->refusals = sqlite3_column_int(st, 10);
}

int db_deliveries_due(struct db *db, int64_t sink_id, int64_t now, size_t limit, struct db_delivery **out,
		      size_t *n, char **cause)
{
	int rc = 0;
	*out = NULL;
	*n = 0;
	sqlite3_stmt *st = prep1(db, "SELECT " DELIVERY_COLS " FROM deliveries d JOIN sinks s ON s.id = d.sink_id"
				     " WHERE d.sink_id = ?1 AND d.state = 'pending' AND (d.next_at IS NULL OR"
				     " d.next_at <= ?2) ORDER BY d.event_id LIMIT ?3", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	bind_time(st, 2, 1, now);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		delivery_row(st, &(*out)[(*n)++]);
	}
	if (r != SQLITE_DONE) {
		rc = fail(db, cause, "cannot read deliveries");
		db_deliveries_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* One UPDATE of a delivery row: ?1 event, ?2 sink, ?3 a time, ?4 a text. */
static int delivery_update(struct db *db, const char *sql, int64_t event_id, int64_t sink_id, int64_t at,
			   const char *text, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, sql, cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, event_id);
	sqlite3_bind_int64(st, 2, sink_id);
	bind_time(st, 3, 1, at);
	bind_text(st, 4, text);
	return step1(db, st, cause, "cannot record a delivery");
}

int db_delivery_tried(struct db *db, int64_t event_id, int64_t sink_id, int64_t now, char **cause)
{
	return delivery_update(db, "UPDATE deliveries SET attempts = attempts + 1, last_try_at = ?3"
				   " WHERE event_id = ?1 AND sink_id = ?2", event_id, sink_id, now, NULL, cause);
}

int db_delivery_done(struct db *db, int64_t event_id, int64_t sink_id, int64_t now, char **cause)
{
	return delivery_update(db, "UPDATE deliveries SET state = 'delivered', delivered_at = ?3, next_at = NULL,"
				   " last_error = NULL WHERE event_id = ?1 AND sink_id = ?2",
			       event_id, sink_id, now, NULL, cause);
}

int db_delivery_give_up(struct db *db, int64_t event_id, int64_t sink_id, const char *error, char **cause)
{
	return delivery_update(db, "UPDATE deliveries SET state = 'failed', next_at = NULL, last_error = ?4,"
				   " refusals = refusals + 1"
				   " WHERE event_id = ?1 AND sink_id = ?2 AND state = 'pending'",
			       event_id, sink_id, 0, error, cause);
}

int db_delivery_failed(struct db *db, int64_t event_id, int64_t sink_id, int64_t next_at, int refused,
		       const char *error, char **cause)
{
	return delivery_update(db, refused ? "UPDATE deliveries SET next_at = ?3, last_error = ?4, refusals = refusals + 1"
					     " WHERE event_id = ?1 AND sink_id = ?2 AND state = 'pending'"
					   : "UPDATE deliveries SET next_at = ?3, last_error = ?4"
					     " WHERE event_id = ?1 AND sink_id = ?2 AND state = 'pending'",
			       event_id, sink_id, next_at, error, cause);
}

int db_deliveries_postpone(struct db *db, int64_t sink_id, int64_t next_at, char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "UPDATE deliveries SET next_at = ?2 WHERE sink_id = ?1 AND state = 'pending'"
				     " AND (next_at IS NULL OR next_at < ?2)", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	bind_time(st, 2, 1, next_at);
	return step1(db, st, cause, "cannot postpone deliveries");
}

int db_delivery_release(struct db *db, int64_t event_id, int64_t sink_id, enum db_delivery_state from,
			char **cause)
{
	return delivery_update(db, "UPDATE deliveries SET state = 'pending', next_at = NULL WHERE event_id = ?1 AND"
				   " sink_id = ?2 AND state = ?4", event_id, sink_id, 0, delivery_states[from], cause);
}

int db_undelivered_each(struct db *db, int64_t sink_id, int with_held,
			int (*fn)(const struct db_delivery *d, const struct db_event *ev, void *arg), void *arg,
			char **cause)
{
	int rc = 0;
	sqlite3_stmt *st = prep1(db, "SELECT " DELIVERY_COLS ", " EVENT_COLS " FROM deliveries d"
				     " JOIN sinks s ON s.id = d.sink_id JOIN events e ON e.id = d.event_id"
				     " LEFT JOIN incidents i ON i.id = e.incident_id"
				     " WHERE (d.state IN ('pending', 'failed') OR (?2 AND d.state = 'held')) AND (?1 = 0 OR"
				     " d.sink_id = ?1)"
				     " ORDER BY d.event_id, s.name", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	sqlite3_bind_int(st, 2, with_held != 0);
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		struct db_delivery d;
		struct db_event ev;
		delivery_row(st, &d);
		event_row(st, 11, &ev);
		rc = fn(&d, &ev, arg);
		free(d.sink);
		free(d.key);
		free(d.last_error);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != SQLITE_DONE)
		rc = fail(db, cause, "cannot read deliveries");
	sqlite3_finalize(st);
	return rc;
}

int db_sink_counts(struct db *db, int64_t sink_id, struct db_sink_counts *c, char **cause)
{
	int rc = 0;
	memset(c, 0, sizeof *c);
	sqlite3_stmt *st = prep1(db, "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state ="
				     " 'held'), count(*) FILTER (WHERE state = 'delivered'), min(next_at) FILTER (WHERE"
				     " state = 'pending'), count(*) FILTER (WHERE state = 'failed') FROM deliveries"
				     " WHERE sink_id = ?1", cause, &rc);
	if (!st)
		return rc;
	sqlite3_bind_int64(st, 1, sink_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		c->pending = (size_t)sqlite3_column_int64(st, 0);
		c->held = (size_t)sqlite3_column_int64(st, 1);
		c->delivered = (size_t)sqlite3_column_int64(st, 2);
		c->has_next = col_time(st, 3, &c->next_at);
		c->failed = (size_t)sqlite3_column_int64(st, 4);
	} else {
		rc = fail(db, cause, "cannot count deliveries");
	}
	sqlite3_finalize(st);
	return rc;
}
