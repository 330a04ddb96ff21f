-- The synthetic library of the benchmark scripts (search-explain.sh, serve-bench.sh): :count
-- assets as rows only (no files), tags of a skewed popularity over 2000 tags, a source and a
-- thumbnail row each. psql -v count=N -f scripts/lib/synthetic-library.sql
SELECT setseed(0.42);
-- 2000 tags: named ones first (low ids are the popular ones), then "topic N".
INSERT INTO tag (name)
SELECT unnest(ARRAY['nature','people','city','beach','sunset','ocean','mountain','forest','night','snow',
                    'car','street','food','coffee','office','family','dog','cat','sky','water',
                    'business','technology','sport','music','travel','winter','summer','autumn','spring','rain',
                    'flower','tree','road','bridge','river','lake','desert','island','harbour','boats']);
INSERT INTO tag (name) SELECT 'topic ' || i FROM generate_series(41, 2000) AS i;

-- Sizes and shapes as stock sites have them; 40 % videos of 2 to 60 s.
INSERT INTO asset (kind, sha256, ext, mime_type, bytes, width, height, path, duration_ms, fps,
                   created_at, last_used_at, use_count)
SELECT s.kind, s.sha, s.ext, s.mime, 1000000 + (random() * 50000000)::bigint, s.w, s.h,
       CASE s.kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/original/' || left(s.sha, 2) || '/' || s.sha || '.' || s.ext,
       CASE s.kind WHEN 'video' THEN (2000 + random() * 58000)::bigint END,
       CASE s.kind WHEN 'video' THEN 25 END,
       s.created, CASE WHEN random() < 0.5 THEN s.created + random() * (now() - s.created) END,
       0
FROM (
    SELECT i, kind, encode(sha256(('asset ' || i)::bytea), 'hex') AS sha,
           CASE kind WHEN 'video' THEN 'mp4' ELSE 'jpg' END AS ext,
           CASE kind WHEN 'video' THEN 'video/mp4' ELSE 'image/jpeg' END AS mime,
           (ARRAY[1920, 1080, 3840, 2160, 1280, 720, 1080, 4000, 6000])[shape] AS w,
           (ARRAY[1080, 1920, 2160, 3840, 720, 1280, 1080, 3000, 4000])[shape] AS h,
           now() - random() * interval '730 days' AS created
    FROM (SELECT i, CASE WHEN random() < 0.4 THEN 'video' ELSE 'image' END::asset_kind AS kind,
                 1 + floor(random() * 9)::int AS shape
          FROM generate_series(1, :count) AS i) AS g
) AS s;

INSERT INTO asset_tag (asset_id, tag_id)
SELECT DISTINCT a.id, t.tag_id
FROM asset a
CROSS JOIN LATERAL (
    SELECT least(2000, floor(exp(random() * ln(2000.0)))::int) AS tag_id
    FROM generate_series(1, 3 + (a.id % 6)::int)
) AS t
ON CONFLICT DO NOTHING;

INSERT INTO provenance (asset_id, provider, provider_asset_id, source_url)
SELECT id, (ARRAY['pexels', 'pixabay', 'unsplash'])[1 + (id % 3)::int], id::text,
       'https://stock.example/' || id
FROM asset;

INSERT INTO thumbnail (asset_id, status, path, width, height, bytes)
SELECT id, 'ok', CASE kind WHEN 'video' THEN 'videos' ELSE 'images' END || '/thumbs/' || sha256 || '.jpg',
       400, greatest(1, 400 * height / width), 30000
FROM asset;

VACUUM (ANALYZE) asset, asset_tag, tag, provenance, thumbnail;
