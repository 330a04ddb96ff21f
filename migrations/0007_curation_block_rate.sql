-- 0007_curation_block_rate: an operator's rating of an asset, and blocked content.
--
-- rating: 0 (the default, "not rated") to 5. Search adds a bounded term for it (docs/search.md,
-- `Scoring.ratingWeight`): at most 0.2, less than one query tag's share of tagOr for up to two
-- query tags and never enough to lift a partial match above a full one. asset_tag carries a
-- copy, as it does of the other inputs of the score, so the rated assets of a query tag are
-- found by one small partial index: search reads all of them beside its top group.
ALTER TABLE asset ADD COLUMN rating smallint NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5);
ALTER TABLE asset_tag ADD COLUMN rating smallint NOT NULL DEFAULT 0;
CREATE INDEX asset_tag_rated ON asset_tag (tag_id, asset_id) WHERE rating > 0 AND present;

CREATE OR REPLACE FUNCTION asset_tag_copy_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.kind, a.state = 'present' AND NOT a.hidden, a.width, a.height, a.duration_ms,
           coalesce(a.last_used_at, a.created_at), a.rating
      INTO NEW.kind, NEW.present, NEW.width, NEW.height, NEW.duration_ms, NEW.last_use, NEW.rating
      FROM asset a WHERE a.id = NEW.asset_id;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION asset_tag_follow_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset_tag x
       SET kind = n.kind, present = (n.state = 'present' AND NOT n.hidden), width = n.width, height = n.height,
           duration_ms = n.duration_ms, last_use = coalesce(n.last_used_at, n.created_at), rating = n.rating
      FROM changed_new n JOIN changed_old o ON o.id = n.id
     WHERE x.asset_id = n.id
       AND (o.kind, o.state, o.hidden, o.width, o.height, o.duration_ms, coalesce(o.last_used_at, o.created_at), o.rating)
           IS DISTINCT FROM (n.kind, n.state, n.hidden, n.width, n.height, n.duration_ms, coalesce(n.last_used_at, n.created_at), n.rating);
    RETURN NULL;
END;
$$;

-- A rating is a durable fact, as hiding is (0006): the metadata file follows it.
CREATE OR REPLACE FUNCTION asset_metadata_mark_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_new n JOIN changed_old o ON o.id = n.id
               WHERE (o.hidden, o.rating) IS DISTINCT FROM (n.hidden, n.rating)) THEN
        INSERT INTO asset_metadata_pending (asset_id)
        SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id
         WHERE (o.hidden, o.rating) IS DISTINCT FROM (n.hidden, n.rating)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

-- Content an operator blocked (`mediaq block`): its asset was removed, and the same bytes, or
-- a file the same provider id names, are refused when they come again (code `blocked`).
-- The list is also kept in the library as blocked.json (docs/storage.md), so a reindex after a
-- lost database keeps refusing them.
CREATE TABLE blocked (
    sha256          text        PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    kind            asset_kind  NOT NULL,
    -- The id the asset had, for people reading a receipt; no longer an asset.
    former_asset_id bigint,
    blocked_at      timestamptz NOT NULL DEFAULT now()
);

-- The provider ids the blocked content was known under.
CREATE TABLE blocked_source (
    provider          text NOT NULL,
    provider_asset_id text NOT NULL CHECK (provider_asset_id <> ''),
    sha256            text NOT NULL REFERENCES blocked (sha256) ON DELETE CASCADE,
    PRIMARY KEY (provider, provider_asset_id, sha256)
);
CREATE INDEX blocked_source_by_sha256 ON blocked_source (sha256);
