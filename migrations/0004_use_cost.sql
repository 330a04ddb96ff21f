-- 0004_use_cost: what marking assets used costs.
--
-- `mediaq plan` marks its picks used in one UPDATE of a few hundred assets. The row trigger of
-- 0002 then ran one UPDATE of asset_tag per asset: at 100,000 assets, 300 picks carrying 2,867
-- tag rows took 146 ms in the trigger. One UPDATE joined over the statement's transition
-- tables writes the same rows in 117 ms (EXPLAIN ANALYZE, same picks). What remains is the
-- index work: last_use is in the tag index's ordered reads, so each changed tag row is a new
-- entry in each of asset_tag's six indexes (docs/performance.md, "Marking picks used").

DROP TRIGGER asset_tag_follow_asset ON asset;
DROP FUNCTION asset_tag_follow_asset();

-- A change to an asset's copied columns reaches its tag rows (5–15 of them) in the same
-- statement: `mediaq use`, plan's marking, quarantine and GC change last_used_at and state.
-- A transition-table trigger cannot name columns or carry a WHEN clause: the join keeps only
-- the assets whose copied values changed.
CREATE FUNCTION asset_tag_follow_assets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE asset_tag x
       SET kind = n.kind, present = (n.state = 'present'), width = n.width, height = n.height,
           duration_ms = n.duration_ms, last_use = coalesce(n.last_used_at, n.created_at)
      FROM changed_new n JOIN changed_old o ON o.id = n.id
     WHERE x.asset_id = n.id
       AND (o.kind, o.state, o.width, o.height, o.duration_ms, coalesce(o.last_used_at, o.created_at))
           IS DISTINCT FROM (n.kind, n.state, n.width, n.height, n.duration_ms, coalesce(n.last_used_at, n.created_at));
    RETURN NULL;
END;
$$;
CREATE TRIGGER asset_tag_follow_assets
    AFTER UPDATE ON asset REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new
    FOR EACH STATEMENT EXECUTE FUNCTION asset_tag_follow_assets();

-- The same order as asset_lru (0003) for every state; every reader of it reads present
-- assets, so it only cost an index entry on each use.
DROP INDEX asset_by_last_use;
