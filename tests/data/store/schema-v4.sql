-- The schema of store version 4 (src/store/store.c up to commit ff4cf0f),
-- for the test of rebuilding a store made by an older cloudtracker
-- (tests/unit/store/test_store_people.c). Run as one script.
CREATE TABLE file(
  id INTEGER PRIMARY KEY,
  path TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'partial', 'skipped')),
  reason TEXT,
  records_stored INTEGER NOT NULL,
  records_rejected INTEGER NOT NULL,
  json_bytes INTEGER NOT NULL,
  read_at INTEGER NOT NULL);
CREATE INDEX file_problem ON file(path) WHERE status <> 'ok';
CREATE TABLE principal(id INTEGER PRIMARY KEY, arn TEXT NOT NULL UNIQUE);
CREATE TABLE access_key(id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE action(id INTEGER PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL,
  kind INTEGER NOT NULL, UNIQUE (source, name, kind));
CREATE TABLE account(id INTEGER PRIMARY KEY, account TEXT NOT NULL UNIQUE);
CREATE TABLE file_rows(file_id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE daily_call(
  principal_id INTEGER NOT NULL, day INTEGER NOT NULL, action_id INTEGER NOT NULL,
  ok INTEGER NOT NULL, err INTEGER NOT NULL,
  PRIMARY KEY (principal_id, day, action_id)) WITHOUT ROWID;
CREATE TABLE session_call(
  key_id INTEGER NOT NULL, principal_id INTEGER NOT NULL, day INTEGER NOT NULL,
  action_id INTEGER NOT NULL, ok INTEGER NOT NULL, err INTEGER NOT NULL,
  PRIMARY KEY (key_id, principal_id, day, action_id)) WITHOUT ROWID;
CREATE TABLE daily_account(
  account_id INTEGER NOT NULL, day INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY (account_id, day)) WITHOUT ROWID;
CREATE TABLE daily_data(
  account_id INTEGER NOT NULL, day INTEGER NOT NULL, action_id INTEGER NOT NULL,
  access INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY (account_id, day, action_id, access)) WITHOUT ROWID;
CREATE TABLE assume_role(
  time INTEGER NOT NULL, issued_key_id INTEGER NOT NULL, file_id INTEGER NOT NULL,
  event_id TEXT NOT NULL, caller_id INTEGER NOT NULL, role_id INTEGER NOT NULL,
  session_name TEXT NOT NULL, shared_event_id TEXT NOT NULL, account_id INTEGER NOT NULL,
  event_name TEXT NOT NULL, caller_type TEXT NOT NULL, caller_key_id INTEGER NOT NULL,
  caller_name TEXT NOT NULL, provider TEXT NOT NULL, subject TEXT NOT NULL,
  issuer TEXT NOT NULL, source_identity TEXT NOT NULL,
  PRIMARY KEY (time, issued_key_id, file_id, event_id)) WITHOUT ROWID;
CREATE INDEX assume_role_by_pair ON assume_role(caller_id, role_id, time, issued_key_id);
CREATE TABLE session_evidence(
  day INTEGER NOT NULL, key_id INTEGER NOT NULL, file_id INTEGER NOT NULL,
  role_id INTEGER NOT NULL, session_name TEXT NOT NULL, source_identity TEXT NOT NULL,
  on_behalf_of TEXT NOT NULL, identity_store TEXT NOT NULL,
  PRIMARY KEY (day, key_id, file_id, role_id, session_name, source_identity, on_behalf_of,
    identity_store)) WITHOUT ROWID;
PRAGMA application_id = 1129608052;
PRAGMA user_version = 4;
