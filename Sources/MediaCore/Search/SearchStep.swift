/// Search's steps before full scoring, as pure values: what each step reads and when its
/// answer is proven (docs/search.md, "The query"). No database here: `SearchRepository` runs
/// the queries that `SearchQuery` builds from them.
enum SearchStep {
    /// Search's first step. Query tags carried by fewer than `rareRows` assets of the kind are
    /// *rare*: all their assets are scored. An asset carrying none of them matches at most the
    /// k common tags, so it scores at most `maximumScore`: those k tags (m = k), a score that
    /// does not grow with more days unused (recency at its ceiling, from `groupDays` on) and
    /// exactly the desired aspect. The assets that reach it tie, and rank by pixels, later last
    /// use, then id: the order of `asset_tag_tie_order` and `asset_tag_aspect_tie_order`, so
    /// the best `limit` of them are read with a LIMIT through one common tag's forms (the
    /// least dense, checking the other common tags per row).
    /// Beside them, the few that could round to the same score from just outside: the `edge`
    /// (last use within a minute of `groupDays`) and the `near` aspects (within 10⁻⁹ of the
    /// desired one). If the `limit`-th result has `maximumScore`, nothing unread can rank
    /// before it.
    struct TopGroup {
        /// Below this many assets of the kind (per form), a query tag's assets are all scored.
        static let defaultRareRows = 1000

        /// Query tags (indexes into `request.tags`) whose assets are all scored.
        let rareTerms: [Int32]
        /// The others; `driver` is the one read in tie order.
        let commonTerms: [Int32]
        let driver: Int32
        /// Each common term's density (`tagRows`): the least dense drives a read.
        let densities: [Int32: Double]
        /// The highest score an asset without a rare tag can reach.
        let maximumScore: Double
        /// From this many days since last use on, the score is `maximumScore` (nil: always, no boost).
        let groupDays: Double?

        init?(_ request: SearchRequest, tagRows: [Int: (rows: Int, density: Double)], rareRows: Int) {
            let all = (0..<request.tags.count).map { Int32($0) }
            rareTerms = all.filter { (tagRows[Int($0)]?.rows ?? 0) < rareRows }
            commonTerms = all.filter { (tagRows[Int($0)]?.rows ?? 0) >= rareRows }
            func density(_ term: Int32) -> Double { tagRows[Int(term)]?.density ?? 0 }
            // Every query tag rare: scoring all their assets is the fast way.
            guard let driver = commonTerms.min(by: { (density($0), $0) < (density($1), $1) }) else { return nil }
            self.driver = driver
            densities = Dictionary(uniqueKeysWithValues: commonTerms.map { ($0, density($0)) })
            let matched = commonTerms.count
            let queryCount = request.tags.count
            let aspectFit = request.aspect == nil ? 0 : Scoring.aspectFitMaximum
            func score(days: Double) -> Double {
                Scoring.Parts(
                    tagAnd: matched == queryCount ? 1 : 0, tagOr: Double(matched) / Double(queryCount),
                    recency: Scoring.recency(daysSinceLastUse: days), recencyBoost: request.recencyBoost,
                    aspectFit: aspectFit, matchedTags: matched, queryTags: queryCount, daysSinceLastUse: days
                ).score
            }
            let top = score(days: 100_000)
            maximumScore = top
            // The score is monotone in the days since last use: find where it reaches its top.
            if score(days: -100_000) == top {
                groupDays = nil
            } else {
                var low = -100_000.0  // below the top
                var high = 100_000.0  // at the top
                for _ in 0..<80 {
                    let middle = (low + high) / 2
                    if score(days: middle) == top { high = middle } else { low = middle }
                }
                groupDays = high
            }
        }

        /// A minute either side of `groupDays`, for the rounding of timestamps into days.
        static let edgeMargin = 60.0 / 86_400

        /// The top group answered when `limit` rows came back and the last still has the top score.
        func answers(_ results: [ScoredAsset], limit: Int) -> Bool {
            results.count == limit && results.last.map { $0.score >= maximumScore } == true
        }
    }

    /// Search's second step, when the top group is short: scored exactly, beside every asset
    /// of the rare tags, every asset that carries all the common query tags, and every asset
    /// that carries at least `size` of them and (with a desired aspect) earns some aspect fit.
    /// Each set of common tags is read through its least dense tag, the others checked per row
    /// by primary key: the cost is the rows of those tags, not of the most common one. An asset
    /// left out carries fewer than `size` common tags, or fewer than all of them and no aspect
    /// fit, so it scores at most `bound`; when the `limit`-th result scores above it, that is
    /// the answer. Levels run from every common tag down to two; one is full scoring.
    struct Level {
        static let maximumSets = 6

        let size: Int
        /// Per set of common terms: the term read, the ones checked, and whether only aspects
        /// with a fit are read.
        let sets: [(driver: Int32, others: [Int32], windowed: Bool)]
        /// The highest score an asset outside the level can have.
        let bound: Double

        init?(_ request: SearchRequest, group: TopGroup, size: Int) {
            let common = group.commonTerms
            guard size >= 2, size <= common.count else { return nil }
            let combinations = Self.combinations(of: common, size: size)
            guard combinations.count <= Self.maximumSets else { return nil }
            self.size = size
            func read(_ set: [Int32], windowed: Bool) -> (driver: Int32, others: [Int32], windowed: Bool) {
                let driver = set.min { (group.densities[$0] ?? 0, $0) < (group.densities[$1] ?? 0, $1) }!
                return (driver, set.filter { $0 != driver }, windowed)
            }
            let windowed = request.aspect != nil
            if size == common.count {
                sets = [read(common, windowed: false)]
            } else {
                sets = combinations.map { read($0, windowed: windowed) } + (windowed ? [read(common, windowed: false)] : [])
            }
            // An asset outside carries no rare tag (all of theirs are in) and not every common
            // tag: with fewer than `size` of them m ≤ size − 1; with more, it has no aspect fit
            // and m ≤ common − 1; recency at most 1.
            func score(matched: Int, aspectFit: Double) -> Double {
                Scoring.Parts(
                    tagAnd: matched == request.tags.count ? 1 : 0, tagOr: Double(matched) / Double(request.tags.count),
                    recency: 1, recencyBoost: request.recencyBoost, aspectFit: aspectFit, matchedTags: matched,
                    queryTags: request.tags.count, daysSinceLastUse: 0
                ).score
            }
            var bound = score(matched: size - 1, aspectFit: request.aspect == nil ? 0 : Scoring.aspectFitMaximum)
            if windowed && size < common.count { bound = max(bound, score(matched: common.count - 1, aspectFit: 0)) }
            self.bound = bound
        }

        /// Answered when `limit` rows came back and the last scores above what is left out
        /// (a tie could lose to an unread asset on pixels or id).
        func answers(_ results: [ScoredAsset], limit: Int) -> Bool {
            results.count == limit && results.last.map { $0.score > bound } == true
        }

        static func combinations(of terms: [Int32], size: Int) -> [[Int32]] {
            guard size > 0 else { return [[]] }
            guard terms.count >= size else { return [] }
            let first = terms[0]
            let rest = Array(terms.dropFirst())
            return combinations(of: rest, size: size - 1).map { [first] + $0 } + combinations(of: rest, size: size)
        }
    }
}
