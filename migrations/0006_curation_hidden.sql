-- 0006_curation_hidden: an operator hides an asset the pipeline should not be offered.
--
-- A hidden asset stays on disk and in the library (its file, tags and sources are kept, and
-- its metadata file says it is hidden, so a reindex keeps it hidden), but search, plan and
-- known never return it. Search reads asset_tag's copy of "present": a hidden asset's tag
-- rows count as not present, so no query changes.

ALTER TABLE asset ADD COLUMN hidden boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION asset_tag_copy_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT a.kind, a.state = 'present' AND NOT a.hidden, a.width, a.height, a.duration_ms,
           coalesce(a.last_used_at, a.created_at)
      INTO NEW.kind, NEW.present, NEW.width, NEW.height, NEW.duration_ms, NEW.last_use
      FROM asset a WHERE a.id = NEW.asset_id;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION asset_tag_follow_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset_tag x
       SET kind = n.kind, present = (n.state = 'present' AND NOT n.hidden), width = n.width, height = n.height,
           duration_ms = n.duration_ms, last_use = coalesce(n.last_used_at, n.created_at)
      FROM changed_new n JOIN changed_old o ON o.id = n.id
     WHERE x.asset_id = n.id
       AND (o.kind, o.state, o.hidden, o.width, o.height, o.duration_ms, coalesce(o.last_used_at, o.created_at))
           IS DISTINCT FROM (n.kind, n.state, n.hidden, n.width, n.height, n.duration_ms, coalesce(n.last_used_at, n.created_at));
    RETURN NULL;
END;
$$;

-- Hiding is a durable fact: the metadata file follows it (0005). The trigger runs on every
-- UPDATE of asset, including the pipeline's uses by the media_client role, which may not write
-- the marks: the INSERT (and its privilege check) runs only when a flag changed.
CREATE FUNCTION asset_metadata_mark_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE o.hidden IS DISTINCT FROM n.hidden) THEN
        INSERT INTO asset_metadata_pending (asset_id)
        SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id WHERE o.hidden IS DISTINCT FROM n.hidden
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_metadata_hidden
    AFTER UPDATE ON asset REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_hidden();
