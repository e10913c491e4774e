-- The schema of store version 3 (src/store/store.c up to commit 13704d6),
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
  file_id INTEGER NOT NULL, caller_id INTEGER NOT NULL, role_id INTEGER NOT NULL,
  time INTEGER NOT NULL, issued_key_id INTEGER NOT NULL, session_name TEXT NOT NULL,
  shared_event_id TEXT NOT NULL, event_id TEXT NOT NULL, account_id INTEGER NOT NULL);
CREATE INDEX assume_role_by_pair ON assume_role(caller_id, role_id, time, issued_key_id);
CREATE INDEX assume_role_by_file ON assume_role(file_id);
PRAGMA application_id = 1129608052;
PRAGMA user_version = 3;
