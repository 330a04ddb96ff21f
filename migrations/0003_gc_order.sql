-- 0003_gc_order: present assets in least-recently-used order, the order GC collects in.
--
-- GC's plan read every present asset (a million rows at the scale we plan for) and sorted them
-- to take the oldest few percent. With this index it reads them oldest first through a cursor
-- and stops at the target, and a provider's keep cap reads its newest ones from the other end
-- (GarbageCollector.plan).
CREATE INDEX asset_lru ON asset ((coalesce(last_used_at, created_at)), id) WHERE state = 'present';

-- What GC reads per asset beside the row, without a heap visit or a sort: the provider of its
-- first source, and its thumbnail's size.
CREATE INDEX provenance_first ON provenance (asset_id, id) INCLUDE (provider);
CREATE INDEX thumbnail_bytes ON thumbnail (asset_id) INCLUDE (bytes);
