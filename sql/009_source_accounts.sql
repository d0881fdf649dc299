-- Several accounts of one kind (two PagerDuty accounts behind one API URL,
-- a Jira site per business unit): an account is its configured name. The
-- kinds are validated by the collector's source registry, not by a list
-- of names here, so a new kind needs no migration.

ALTER TABLE sources DROP CONSTRAINT sources_kind_check;
ALTER TABLE sources DROP CONSTRAINT sources_kind_base_url_key;

-- Rows written before accounts had names were named after their host. The
-- single-account variables describe the accounts named after their kind:
-- the first row of each kind becomes that account, so it keeps its
-- checkpoints; any other keeps a name of its own.
UPDATE sources AS s
SET name = CASE WHEN s.id = (SELECT min(o.id) FROM sources AS o WHERE o.kind = s.kind) THEN s.kind
                ELSE s.kind || '-' || s.id END;
ALTER TABLE sources ADD CONSTRAINT sources_name_key UNIQUE (name);

-- A webhook event belongs to the account whose route received it; event ids
-- are unique per account.
ALTER TABLE webhook_events ADD COLUMN source_id integer REFERENCES sources (id);
UPDATE webhook_events AS w
SET source_id = (SELECT min(s.id) FROM sources AS s WHERE s.kind = w.source_kind);
-- Events of an account never synced cannot be replayed to it; their ids only guarded against redelivery.
DELETE FROM webhook_events WHERE source_id IS NULL;
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pkey;
ALTER TABLE webhook_events DROP COLUMN source_kind;
ALTER TABLE webhook_events ALTER COLUMN source_id SET NOT NULL;
ALTER TABLE webhook_events ADD PRIMARY KEY (source_id, event_id);
