-- 0001_initial: the library's first schema.
--
-- Rules that hold for every table:
-- * A path stored in a row is relative to LIBRARY_ROOT (never absolute, never "..").
--   The one absolute path is library.root_path, the root the library was last opened at.
-- * Sizes, bitrates and durations are 64-bit.
-- * Width and height are the displayed size: after EXIF orientation, rotation metadata and
--   sample aspect ratio.

-- One row: the library this database describes. The marker file in LIBRARY_ROOT carries the
-- same id, so a database and a root that do not belong together are noticed.
CREATE TABLE library (
    id            uuid        PRIMARY KEY,
    is_singleton  boolean     NOT NULL DEFAULT true UNIQUE CHECK (is_singleton),
    root_path     text        NOT NULL CHECK (root_path LIKE '/%'),
    -- Incremented by every rebase, so a path cached by a client can tell it is stale.
    root_version  integer     NOT NULL DEFAULT 1 CHECK (root_version >= 1),
    created_at    timestamptz NOT NULL DEFAULT now(),
    opened_at     timestamptz NOT NULL DEFAULT now()
);

-- Every relocation of the library, newest last.
CREATE TABLE rebase_history (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_root     text        NOT NULL CHECK (from_root LIKE '/%'),
    to_root       text        NOT NULL CHECK (to_root LIKE '/%'),
    root_version  integer     NOT NULL,
    verified_files integer    NOT NULL DEFAULT 0,
    rebased_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TYPE asset_kind AS ENUM ('image', 'video');

-- present: usable. deleting: GC has committed to removing it and may have removed its files
-- already; it is invisible to search and its row goes last. quarantined: its original failed a
-- checksum or decode check; kept for inspection, invisible to search.
CREATE TYPE asset_state AS ENUM ('present', 'deleting', 'quarantined');

CREATE TABLE asset (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          asset_kind  NOT NULL,
    state         asset_state NOT NULL DEFAULT 'present',
    sha256        text        NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- Canonical extension of the sniffed format, lowercase, without the dot.
    ext           text        NOT NULL CHECK (ext ~ '^[a-z0-9]{1,8}$'),
    mime_type     text        NOT NULL,
    bytes         bigint      NOT NULL CHECK (bytes > 0),
    width         integer     NOT NULL CHECK (width > 0),
    height        integer     NOT NULL CHECK (height > 0),
    -- {images|videos}/original/<sha[0:2]>/<sha>.<ext>, relative to LIBRARY_ROOT.
    path          text        NOT NULL UNIQUE CHECK (path !~ '^/' AND path !~ '(^|/)\.\.(/|$)'),
    -- The file name it first arrived under, for people; never used to find the file.
    original_name text,
    -- Images: an animation or a multi-page file (its thumbnail shows the first page).
    page_count    integer     NOT NULL DEFAULT 1 CHECK (page_count >= 1),
    -- Videos only.
    duration_ms   bigint      CHECK (duration_ms >= 0),
    fps           double precision CHECK (fps > 0),
    video_codec   text,
    audio_codec   text,
    bitrate       bigint      CHECK (bitrate >= 0),
    has_audio     boolean,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- NULL until the asset is first used; ranking and GC treat that as "used when created".
    last_used_at  timestamptz,
    use_count     integer     NOT NULL DEFAULT 0 CHECK (use_count >= 0),
    CHECK ((kind = 'video') = (duration_ms IS NOT NULL)),
    CHECK (kind = 'video' OR (video_codec IS NULL AND audio_codec IS NULL AND has_audio IS NULL))
);

-- Search filters by kind and size or duration; GC walks least recently used first.
CREATE INDEX asset_by_kind_size     ON asset (kind, width, height) WHERE state = 'present';
CREATE INDEX asset_by_kind_duration ON asset (kind, duration_ms)   WHERE state = 'present';
CREATE INDEX asset_by_last_use      ON asset ((coalesce(last_used_at, created_at)), id);
CREATE INDEX asset_not_present      ON asset (state) WHERE state <> 'present';

-- Tags are normalised once, by the core's tag normaliser, before they reach this table.
CREATE TABLE tag (
    id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name  text    NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 100)
);

CREATE TABLE asset_tag (
    asset_id  bigint  NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
    tag_id    integer NOT NULL REFERENCES tag (id),
    -- Primary key answers "the tags of an asset"; the index below answers "the assets with
    -- these tags" from the index alone, which is what tag search reads at 100k+ assets.
    PRIMARY KEY (asset_id, tag_id)
);
CREATE INDEX asset_tag_by_tag ON asset_tag (tag_id, asset_id);

-- Every source a file came from, not only the first. The same bytes fetched from two
-- providers, or twice from one, keep both records.
CREATE TABLE provenance (
    id                 bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    asset_id           bigint      NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
    provider           text        NOT NULL CHECK (provider ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    -- The provider's own id for the asset (one provider asset may have several files:
    -- sizes and renditions, so this is not unique).
    provider_asset_id  text        CHECK (provider_asset_id <> ''),
    source_url         text        CHECK (source_url <> ''),
    first_seen_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (asset_id, provider, provider_asset_id, source_url)
);
-- "Is provider X's asset N known?"
CREATE INDEX provenance_by_provider_asset ON provenance (provider, provider_asset_id)
    WHERE provider_asset_id IS NOT NULL;
CREATE INDEX provenance_by_source_url ON provenance (source_url) WHERE source_url IS NOT NULL;
CREATE INDEX provenance_by_asset ON provenance (asset_id);

CREATE TYPE thumbnail_status AS ENUM ('ok', 'missing');

-- One row an asset once its thumbnail was attempted. "missing" keeps the asset usable and says why.
CREATE TABLE thumbnail (
    asset_id    bigint           PRIMARY KEY REFERENCES asset (id) ON DELETE CASCADE,
    status      thumbnail_status NOT NULL,
    -- {images|videos}/thumbs/<sha>.jpg, relative to LIBRARY_ROOT.
    path        text    CHECK (path !~ '^/' AND path !~ '(^|/)\.\.(/|$)'),
    width       integer CHECK (width > 0),
    height      integer CHECK (height > 0),
    bytes       bigint  CHECK (bytes > 0),
    reason      text,
    attempts    integer          NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    updated_at  timestamptz      NOT NULL DEFAULT now(),
    CHECK ((status = 'ok') = (path IS NOT NULL)),
    CHECK (status = 'ok' OR reason IS NOT NULL)
);
CREATE INDEX thumbnail_missing ON thumbnail (asset_id) WHERE status = 'missing';

-- An in-progress gather run holds assets against GC until it unpins or the pin expires.
CREATE TABLE pin (
    run_id      text        NOT NULL CHECK (run_id <> '' AND length(run_id) <= 200),
    asset_id    bigint      NOT NULL REFERENCES asset (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (run_id, asset_id),
    CHECK (expires_at > created_at)
);
CREATE INDEX pin_by_asset ON pin (asset_id, expires_at);
CREATE INDEX pin_by_expiry ON pin (expires_at);

-- Files the library is about to create or remove, written before the filesystem is touched
-- and deleted in the same transaction that makes the rows match the files. After a crash,
-- whatever is listed here is finished or undone: no original without a row, no row without
-- its original.
CREATE TYPE file_intent_action AS ENUM ('create', 'delete');

CREATE TABLE file_intent (
    path        text               PRIMARY KEY CHECK (path !~ '^/' AND path !~ '(^|/)\.\.(/|$)'),
    action      file_intent_action NOT NULL,
    asset_id    bigint,
    owner_pid   integer,
    created_at  timestamptz        NOT NULL DEFAULT now()
);

-- Running totals for the budget, kept by the statements that add and remove files, so the
-- projected size before an ingest is one row read rather than a sum over every asset.
CREATE TABLE storage_usage (
    kind            asset_kind PRIMARY KEY,
    original_bytes  bigint     NOT NULL DEFAULT 0 CHECK (original_bytes >= 0),
    thumbnail_bytes bigint     NOT NULL DEFAULT 0 CHECK (thumbnail_bytes >= 0),
    asset_count     bigint     NOT NULL DEFAULT 0 CHECK (asset_count >= 0)
);
INSERT INTO storage_usage (kind) VALUES ('image'), ('video');

CREATE FUNCTION storage_usage_track_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE storage_usage SET original_bytes = original_bytes + NEW.bytes,
                                 asset_count = asset_count + 1
         WHERE kind = NEW.kind;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE storage_usage SET original_bytes = original_bytes - OLD.bytes,
                                 asset_count = asset_count - 1
         WHERE kind = OLD.kind;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_storage_usage AFTER INSERT OR DELETE ON asset
    FOR EACH ROW EXECUTE FUNCTION storage_usage_track_asset();

CREATE FUNCTION storage_usage_track_thumbnail() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta bigint := coalesce(CASE WHEN TG_OP <> 'DELETE' THEN NEW.bytes END, 0)
                  - coalesce(CASE WHEN TG_OP <> 'INSERT' THEN OLD.bytes END, 0);
    asset_id_of_row bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.asset_id ELSE NEW.asset_id END;
BEGIN
    IF delta <> 0 THEN
        -- On a cascade from asset the asset row is already gone; its kind comes from OLD's
        -- path then, which always starts with images/ or videos/.
        UPDATE storage_usage
           SET thumbnail_bytes = thumbnail_bytes + delta
         WHERE kind = coalesce(
                 (SELECT a.kind FROM asset a WHERE a.id = asset_id_of_row),
                 CASE WHEN coalesce(NEW.path, OLD.path) LIKE 'videos/%'
                      THEN 'video'::asset_kind ELSE 'image'::asset_kind END);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER thumbnail_storage_usage AFTER INSERT OR UPDATE OF bytes OR DELETE ON thumbnail
    FOR EACH ROW EXECUTE FUNCTION storage_usage_track_thumbnail();
