-- 0002_search_speed: what the ranking reads, copied into the tag index.
--
-- Search used to find the assets carrying a query tag in asset_tag, then read each one's kind,
-- state, size and last use from asset by primary key: about 5 µs a matching asset, 200 ms for a
-- tag on 40 % of a 100,000-asset library. Each asset_tag row now carries those inputs itself
-- (kept equal to its asset's by the triggers below), so search reads the tag index alone, and
-- the indexes below return the assets of one tag in the order search breaks ties in, so that
-- the best-scoring group can be read with a LIMIT instead of scoring every match
-- (SearchRepository.TopGroup; docs/search.md).

ALTER TABLE asset_tag
    ADD COLUMN kind        asset_kind,
    ADD COLUMN present     boolean,
    ADD COLUMN width       integer,
    ADD COLUMN height      integer,
    ADD COLUMN duration_ms bigint,
    -- coalesce(asset.last_used_at, asset.created_at): "never used" counts as used when added.
    ADD COLUMN last_use    timestamptz;

UPDATE asset_tag x
   SET kind = a.kind, present = (a.state = 'present'), width = a.width, height = a.height,
       duration_ms = a.duration_ms, last_use = coalesce(a.last_used_at, a.created_at)
  FROM asset a
 WHERE a.id = x.asset_id;

ALTER TABLE asset_tag
    ALTER COLUMN kind SET NOT NULL,
    ALTER COLUMN present SET NOT NULL,
    ALTER COLUMN width SET NOT NULL,
    ALTER COLUMN height SET NOT NULL,
    ALTER COLUMN last_use SET NOT NULL;

-- A new asset_tag row takes its asset's values, whatever the INSERT gave.
CREATE FUNCTION asset_tag_copy_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.kind, a.state = 'present', a.width, a.height, a.duration_ms,
           coalesce(a.last_used_at, a.created_at)
      INTO NEW.kind, NEW.present, NEW.width, NEW.height, NEW.duration_ms, NEW.last_use
      FROM asset a WHERE a.id = NEW.asset_id;
    RETURN NEW;
END;
$$;
CREATE TRIGGER asset_tag_copy_asset BEFORE INSERT OR UPDATE OF asset_id ON asset_tag
    FOR EACH ROW EXECUTE FUNCTION asset_tag_copy_asset();

-- A change to an asset's copied columns reaches its tag rows (5–15 of them) in the same
-- statement: `mediaq use`, quarantine and GC change last_used_at and state.
CREATE FUNCTION asset_tag_follow_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset_tag
       SET kind = NEW.kind, present = (NEW.state = 'present'), width = NEW.width, height = NEW.height,
           duration_ms = NEW.duration_ms, last_use = coalesce(NEW.last_used_at, NEW.created_at)
     WHERE asset_id = NEW.id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_tag_follow_asset
    AFTER UPDATE OF kind, state, width, height, duration_ms, last_used_at, created_at ON asset
    FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.state IS DISTINCT FROM NEW.state
          OR OLD.width IS DISTINCT FROM NEW.width OR OLD.height IS DISTINCT FROM NEW.height
          OR OLD.duration_ms IS DISTINCT FROM NEW.duration_ms
          OR coalesce(OLD.last_used_at, OLD.created_at) IS DISTINCT FROM coalesce(NEW.last_used_at, NEW.created_at))
    EXECUTE FUNCTION asset_tag_follow_asset();

-- Every match of a tag with what scoring and the filters read, without touching asset.
CREATE INDEX asset_tag_rank_inputs ON asset_tag (tag_id, kind, asset_id)
    INCLUDE (width, height, duration_ms, last_use) WHERE present;
-- The assets of a tag in search's tie order (pixels, then the later last use, then the id):
-- without a desired aspect, and with one (the exact aspect first narrows it).
CREATE INDEX asset_tag_tie_order ON asset_tag (tag_id, kind, ((width::int8 * height)) DESC, last_use DESC, asset_id)
    INCLUDE (width, height, duration_ms) WHERE present;
CREATE INDEX asset_tag_aspect_tie_order
    ON asset_tag (tag_id, kind, ((width::float8 / height)), ((width::int8 * height)) DESC, last_use DESC, asset_id)
    INCLUDE (width, height, duration_ms) WHERE present;
-- The assets of a tag by last use: the few whose recency is near its ceiling.
CREATE INDEX asset_tag_by_last_use ON asset_tag (tag_id, kind, last_use) WHERE present;
