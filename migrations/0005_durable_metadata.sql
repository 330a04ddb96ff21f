-- 0005_durable_metadata: what a lost database must not take with it.
--
-- Each asset's durable facts (its tags and sources) are also kept in a JSON file in the
-- library (docs/storage.md), so `mediaq reindex` can rebuild the rows from the files. The
-- rows change first, in their transaction, and the file follows: a change marks the asset
-- here, in the same transaction, and whoever writes the file clears the mark. A crash between
-- the two leaves the mark, and the file is written from the rows later. The triggers make the
-- mark part of every change, including those of commands written after this one.

-- An original that went missing from the disk: kept as a record (tags, sources, so that the
-- same bytes dropped again come back with them), never offered by search, plan, known or export.
ALTER TYPE asset_state ADD VALUE IF NOT EXISTS 'lost';

CREATE TABLE asset_metadata_pending (
    asset_id  bigint      PRIMARY KEY REFERENCES asset (id) ON DELETE CASCADE,
    since     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION asset_metadata_mark_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO asset_metadata_pending (asset_id) SELECT id FROM changed ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

-- Tag and source rows of an asset being removed go by cascade: nothing to write for those.
CREATE FUNCTION asset_metadata_mark_details() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO asset_metadata_pending (asset_id)
    SELECT DISTINCT c.asset_id FROM changed c WHERE EXISTS (SELECT 1 FROM asset a WHERE a.id = c.asset_id)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$$;

CREATE TRIGGER asset_metadata_new_asset
    AFTER INSERT ON asset REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_assets();
CREATE TRIGGER asset_metadata_tag_added
    AFTER INSERT ON asset_tag REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_details();
CREATE TRIGGER asset_metadata_tag_removed
    AFTER DELETE ON asset_tag REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_details();
CREATE TRIGGER asset_metadata_source_added
    AFTER INSERT ON provenance REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_details();
CREATE TRIGGER asset_metadata_source_removed
    AFTER DELETE ON provenance REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_details();

-- A library upgraded to this schema writes the files of the assets it already has.
INSERT INTO asset_metadata_pending (asset_id) SELECT id FROM asset;
