-- 0010_tag_folding: query tags and stored tags also compare with their diacritics folded
-- ("ecole" finds "école"), while the stored spelling stays what is shown (docs/search.md,
-- "Diacritics"). The fold is one character for one character, by a fixed table that
-- `TagFolding` in Swift repeats (a test compares the two on every character of it): Latin
-- letters with accents, cedillas, ogoneks, strokes and carons become their base letter.
-- Tags are lowercase (TagNormalizer), so the table is too. A built-in `translate`, not the
-- unaccent extension, so that it needs no privilege to create and no contrib files.
CREATE FUNCTION fold_tag(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN translate(name,
        'àáâãäåāăąçćĉċčďđðèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšșţťŧțùúûüũūŭůűųŵýÿŷźżž',
        'aaaaaaaaacccccdddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssssttttuuuuuuuuuuwyyyzzz');

ALTER TABLE tag ADD COLUMN folded text GENERATED ALWAYS AS (fold_tag(name)) STORED;
CREATE INDEX tag_folded ON tag (folded);
