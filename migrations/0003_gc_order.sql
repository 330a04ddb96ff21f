-- 0003_gc_order: present assets in least-recently-used order, the order GC collects in.
--
-- GC's plan read every present asset (a million rows at the scale we plan for) and sorted them
-- to take the oldest few percent. With this index it reads them oldest first through a cursor
-- and stops at the target, and a provider's keep cap reads its newest ones from the other end
-- (GarbageCollector.plan).
CREATE INDEX asset_lru ON asset ((coalesce(last_used_at, created_at)), id) WHERE state = 'present';
