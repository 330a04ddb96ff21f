public import Foundation

/// The ranking of search, as one pure function. The SQL in `SearchRepository` computes the
/// same formula with the same constants (they are bound as parameters), and a test runs both
/// on random libraries; docs/search.md states it for people.
///
/// For query tags Q and an asset's tags T, with m = |Q ∩ T| (m = 0 is never a result):
///
///     score = tagAnd + 0.5 · tagOr + recencyBoost · recency + aspectFit + 0.2 · rating / 5
///
/// - `tagAnd` = 1 when every query tag matches, else 0; `tagOr` = m / |Q|.
/// - `recency` = 1 / (1 + e^(−(d − 7) / 2)), d = days since the asset was last used (or, never
///   used, since it was added): about 0.05 a day after a use, 0.5 at a week, 0.99 after two
///   weeks. An asset used yesterday ranks below an equal one unused for a month.
/// - `aspectFit` = 0.25 · max(0, 1 − |ln(a / A)| / ln 2) for the asset's displayed aspect a
///   (width / height) and the desired one A: 0.25 for the same shape, falling linearly in the
///   logarithm to 0 at twice or half the desired aspect; 0 when one is portrait and the other
///   landscape (a square fits either), and 0 when no aspect is asked for.
/// - `rating` = the operator's stars (`mediaq rate`, 0 to 5; 0 = not rated, no term): at most
///   0.2, below tagAnd's 1, so a rating never lifts an asset that misses a query tag above one
///   that carries them all; among full matches it outweighs most of the recency term.
///
/// Ties: more pixels first, then the more recent last use, then the lower id.
///
/// **The fallback through related tags** (`RelatedTags`, when exact matches fall short): each
/// query tag i counts vᵢ = 1 through an exact form, `relatedShare` × w through a related tag of
/// relation weight w (the best one), else 0; then `tagAnd` = min vᵢ when every query tag
/// counts something, else 0, and `tagOr` = Σ vᵢ / |Q|. With only exact matches (vᵢ 0 or 1)
/// these are the terms above. vᵢ ≤ 0.5 for a related match, so with the default recency
/// boost an asset that needs one scores below 1.5, where every asset carrying all the query
/// tags exactly scores 1.5 or more; the fallback also orders those first whatever the boost.
public enum Scoring {
    /// Days since last use at which `recency` is 0.5.
    public static let recencyCentreDays = 7.0
    /// Days over which `recency` changes by a factor e in its odds.
    public static let recencyWidthDays = 2.0
    /// The logistic curve's argument is clamped to ±40 (where it is 0 or 1 to 17 digits), so
    /// neither Swift nor PostgreSQL ever sees exp() overflow or underflow (PostgreSQL raises an
    /// error for both, for an asset unused for years or a clock that jumped).
    public static let recencyClamp = 40.0
    /// The largest `aspectFit`.
    public static let aspectFitMaximum = 0.25
    /// The aspect factor (in either direction) at which `aspectFit` reaches 0.
    public static let aspectFitZeroFactor = 2.0
    /// The weight of a five-star rating; a rating of r stars adds `ratingWeight · r / 5`.
    public static let ratingWeight = 0.2
    /// The highest rating `mediaq rate` gives.
    public static let maximumRating = 5
    /// What a related tag counts, as a share of its relation's weight (an exact match counts 1).
    public static let relatedShare = 0.5
    /// `preferRecencyBoost` when neither the request nor the configuration gives one.
    public static let defaultRecencyBoost = 0.1

    /// The parts of one asset's score; `score` is their weighted sum.
    public struct Parts: Sendable, Equatable, Codable {
        /// 1 when every query tag matches exactly, else 0 (with the fallback: the smallest
        /// value a query tag counts when each counts something).
        public var tagAnd: Double
        /// m / |Q|, weighted 0.5 in the score (with the fallback: the values' sum / |Q|).
        public var tagOr: Double
        /// The logistic curve in days since last use, in [0, 1]; weighted by `recencyBoost`.
        public var recency: Double
        public var recencyBoost: Double
        /// In [0, 0.25].
        public var aspectFit: Double
        /// m: how many query tags matched, exactly or (with the fallback) through a relation.
        public var matchedTags: Int
        /// |Q|.
        public var queryTags: Int
        public var daysSinceLastUse: Double
        /// The operator's stars, 0 (not rated) to 5.
        public var rating: Int = 0
        /// How many of the matched query tags matched only through a related tag.
        public var matchedThroughRelations: Int = 0

        /// The rating's term, in [0, `ratingWeight`].
        public var ratingTerm: Double { Scoring.ratingWeight * Double(rating) / Double(Scoring.maximumRating) }

        public var score: Double { tagAnd + 0.5 * tagOr + recencyBoost * recency + aspectFit + ratingTerm }
    }

    /// The logistic curve in days since last use, in [0, 1].
    public static func recency(daysSinceLastUse days: Double) -> Double {
        let z = min(recencyClamp, max(-recencyClamp, (days - recencyCentreDays) / recencyWidthDays))
        return 1.0 / (1.0 + exp(-z))
    }

    /// The aspect bonus in [0, 0.25] of a `width` × `height` asset for the `desired` aspect
    /// (width / height), or 0 without one.
    public static func aspectFit(width: Int, height: Int, desired: Double?) -> Double {
        guard let desired else { return 0 }
        let ratio = Double(width) / Double(height)
        if (ratio - 1) * (desired - 1) < 0 { return 0 }
        return aspectFitMaximum * max(0, 1 - abs(log(ratio / desired)) / log(aspectFitZeroFactor))
    }

    public static func parts(
        matched: Int, queryCount: Int, daysSinceLastUse days: Double, recencyBoost: Double,
        width: Int, height: Int, desiredAspect: Double?, rating: Int = 0
    ) -> Parts {
        Parts(
            tagAnd: matched == queryCount ? 1.0 : 0.0,
            tagOr: Double(matched) / Double(queryCount),
            recency: recency(daysSinceLastUse: days),
            recencyBoost: recencyBoost,
            aspectFit: aspectFit(width: width, height: height, desired: desiredAspect),
            matchedTags: matched, queryTags: queryCount, daysSinceLastUse: days, rating: rating)
    }

    /// The parts with the fallback: `values` holds what each query tag counts (`RelatedTags`).
    public static func parts(
        values: [Double], daysSinceLastUse days: Double, recencyBoost: Double,
        width: Int, height: Int, desiredAspect: Double?, rating: Int = 0
    ) -> Parts {
        let matched = values.count { $0 > 0 }
        return Parts(
            tagAnd: matched == values.count ? values.min() ?? 0 : 0,
            tagOr: values.reduce(0, +) / Double(values.count),
            recency: recency(daysSinceLastUse: days),
            recencyBoost: recencyBoost,
            aspectFit: aspectFit(width: width, height: height, desired: desiredAspect),
            matchedTags: matched, queryTags: values.count, daysSinceLastUse: days, rating: rating,
            matchedThroughRelations: values.count { $0 > 0 && $0 < 1 })
    }

    /// Days from `lastUse` to `now`, as the SQL computes them.
    public static func days(from lastUse: Date, to now: Date) -> Double {
        now.timeIntervalSince(lastUse) / 86_400
    }
}
