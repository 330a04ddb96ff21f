-- 0008_file_keywords: tags that came from the file itself.
--
-- Ingest reads the keywords an image carries (IPTC, XMP dc:subject, EXIF XPKeywords; see
-- docs/ingest.md) and adds them, normalised, to the asset's tags. Which tags those were is kept
-- with the source that brought the file: file_keywords holds the normalised keywords read from
-- the file when that provenance was recorded; NULL when it had none (or reading them was off, or
-- the row predates this migration). The asset_tag rows stay one per tag whatever its origin, so
-- search reads nothing new.

ALTER TABLE provenance ADD COLUMN file_keywords text[];

-- A durable fact, as tags and sources are (0005): the metadata file follows a change. An
-- INSERT is marked already; an UPDATE only matters when the keywords changed (every
-- duplicate drop updates last_seen_at, which the file does not keep).
CREATE FUNCTION asset_metadata_mark_file_keywords() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_new n JOIN changed_old o ON o.id = n.id
               WHERE o.file_keywords IS DISTINCT FROM n.file_keywords) THEN
        INSERT INTO asset_metadata_pending (asset_id)
        SELECT DISTINCT n.asset_id FROM changed_new n JOIN changed_old o ON o.id = n.id
         WHERE o.file_keywords IS DISTINCT FROM n.file_keywords
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_metadata_file_keywords
    AFTER UPDATE ON provenance REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION asset_metadata_mark_file_keywords();
