-- 0011_related_read_order: the assets of a tag by last use, then id, with what search's filters
-- read, so that the fallback through related tags reads a related tag's least recently used
-- assets (RelatedTags.rowsPerTag) from the index alone, in order, and stops there, however many
-- carry the tag (`people`: thousands). It serves what 0002's asset_tag_by_last_use served (its
-- leading columns are the same), which it replaces.
CREATE INDEX asset_tag_by_last_use_id ON asset_tag (tag_id, kind, last_use, asset_id)
    INCLUDE (width, height, duration_ms) WHERE present;
DROP INDEX asset_tag_by_last_use;
