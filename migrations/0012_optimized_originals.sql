-- 0012_optimized_originals: an original rewritten smaller without changing what it shows
-- (`media.optimize`, `mediaq optimize`; docs/storage.md, "Optimised originals").
--
-- The asset's identity stays the SHA-256 of the bytes as downloaded: `sha256`, the original's
-- path, dedupe, `known`, receipts, sidecars and the metadata file's name all keep it. What is on
-- disk may differ once optimised, and the stored facts say what:
-- * `bytes` is the size of the file on disk (what the budget, GC and stats count);
-- * `stored_sha256` is the hash of the file on disk, NULL while it is the download itself;
-- * `download_bytes` is the size of the download, NULL while it is `bytes`;
-- * `optimization` names the rewrite (`jpeg-lossless`, `png-lossless`, `mp4-faststart`,
--   `h264-crf23`), `optimization_quality` the measured PSNR of a lossy one (dB).
ALTER TABLE asset
    ADD COLUMN stored_sha256        text CHECK (stored_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN download_bytes       bigint CHECK (download_bytes > 0),
    ADD COLUMN optimization         text CHECK (optimization <> ''),
    ADD COLUMN optimization_quality double precision,
    ADD COLUMN optimized_at         timestamptz,
    -- The last optimisation attempt, so a background run never tries the same asset forever:
    -- `optimized`, `not_worth_it`, `not_applicable`, `failed` (with the reason in the log).
    ADD COLUMN optimize_checked_at  timestamptz,
    ADD COLUMN optimize_outcome     text,
    ADD CHECK ((stored_sha256 IS NULL) = (optimization IS NULL));

-- The background optimiser reads present assets never tried, oldest first.
CREATE INDEX asset_not_yet_optimized ON asset (id) WHERE optimize_checked_at IS NULL AND state = 'present';

-- A smaller original moves the budget's totals as an insert or a delete does.
CREATE OR REPLACE FUNCTION storage_usage_track_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE storage_usage SET original_bytes = original_bytes + NEW.bytes,
                                 asset_count = asset_count + 1
         WHERE kind = NEW.kind;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE storage_usage SET original_bytes = original_bytes - OLD.bytes,
                                 asset_count = asset_count - 1
         WHERE kind = OLD.kind;
    ELSIF TG_OP = 'UPDATE' AND NEW.bytes IS DISTINCT FROM OLD.bytes THEN
        UPDATE storage_usage SET original_bytes = original_bytes - OLD.bytes + NEW.bytes
         WHERE kind = NEW.kind;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_storage_usage_resized AFTER UPDATE OF bytes ON asset
    FOR EACH ROW EXECUTE FUNCTION storage_usage_track_asset();

-- The stored facts are durable (the metadata file's `stored`), as hiding and rating are (0007):
-- a reindex after a lost database must accept the optimised file and know its download's size.
CREATE OR REPLACE FUNCTION asset_metadata_mark_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_new n JOIN changed_old o ON o.id = n.id
               WHERE (o.hidden, o.rating, o.stored_sha256, o.bytes, o.optimization, o.optimization_quality)
                     IS DISTINCT FROM (n.hidden, n.rating, n.stored_sha256, n.bytes, n.optimization, n.optimization_quality)) THEN
        INSERT INTO asset_metadata_pending (asset_id)
        SELECT n.id FROM changed_new n JOIN changed_old o ON o.id = n.id
         WHERE (o.hidden, o.rating, o.stored_sha256, o.bytes, o.optimization, o.optimization_quality)
               IS DISTINCT FROM (n.hidden, n.rating, n.stored_sha256, n.bytes, n.optimization, n.optimization_quality)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;

-- An original about to be replaced by its optimised copy: `replacement_path` (in `.tmp`, relative
-- to LIBRARY_ROOT) hashes to `replacement_sha256`. Written (committed) before the rename; after a
-- crash, recovery hashes the file at `path`: the replacement's hash means the rename happened and
-- the row is brought in line (`replacement_bytes`, `replacement_method`, ...), anything else means
-- it did not. Either way the temporary file goes, then the intent.
ALTER TYPE file_intent_action ADD VALUE IF NOT EXISTS 'replace';
ALTER TABLE file_intent
    ADD COLUMN replacement_path    text CHECK (replacement_path !~ '^/' AND replacement_path !~ '(^|/)\.\.(/|$)'),
    ADD COLUMN replacement_sha256  text CHECK (replacement_sha256 ~ '^[0-9a-f]{64}$'),
    ADD COLUMN replacement_bytes   bigint CHECK (replacement_bytes > 0),
    ADD COLUMN replacement_method  text,
    ADD COLUMN replacement_quality double precision;
