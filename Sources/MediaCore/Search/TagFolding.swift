/// Diacritics folded, one character for one, so that a query for `ecole` finds `école`
/// (docs/search.md, "Diacritics"). Migration 0010's `fold_tag` folds stored tags in PostgreSQL
/// with the same table (a test compares the two); the stored spelling is what results show.
public enum TagFolding {
    /// Accented lowercase Latin letters, and the base letter each folds to, in the same order.
    static let accented = Array(
        "àáâãäåāăąçćĉċčďđðèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšșţťŧțùúûüũūŭůűųŵýÿŷźżž".unicodeScalars)
    static let base = Array("aaaaaaaaacccccdddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssssttttuuuuuuuuuuwyyyzzz".unicodeScalars)
    static let table = Dictionary(uniqueKeysWithValues: zip(accented, base))

    /// `tag` with every character of the table replaced by its base letter.
    public static func fold(_ tag: String) -> String {
        guard tag.unicodeScalars.contains(where: { table[$0] != nil }) else { return tag }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: tag.unicodeScalars.map { table[$0] ?? $0 })
        return String(scalars)
    }
}
