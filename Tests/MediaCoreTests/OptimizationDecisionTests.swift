@testable import MediaCore
import Testing

/// The rule that decides whether an optimised copy replaces a stored original.
@Suite struct OptimizationDecisionTests {
    static func lossless(moved: Bool = false) -> OptimizationResult {
        OptimizationResult(method: "x", outputBytes: 0, verification: "pixels", movedIndexFirst: moved)
    }

    static func refused(
        _ result: OptimizationResult = lossless(), before: Int64, after: Int64, kind: MediaFormat.Kind = .image,
        request: OptimizationRequest = .lossless, minimum: Double = 0.02
    ) -> OptimizationDecision.Refusal? {
        OptimizationDecision.refusal(
            result, bytesBefore: before, bytesAfter: after, kind: kind, request: request, minimumSaving: minimum)
    }

    @Test func aCopyIsKeptWhenItSavesAtLeastTheShare() {
        #expect(Self.refused(before: 1000, after: 980) == nil, "2 % exactly")
        #expect(Self.refused(before: 1000, after: 981)?.isFailure == false, "just under 2 %")
        #expect(Self.refused(before: 1000, after: 1000) != nil)
        #expect(Self.refused(before: 1000, after: 1200) != nil)
        #expect(Self.refused(before: 1000, after: 999, minimum: 0) == nil, "any saving with a zero share")
        #expect(Self.refused(before: 1000, after: 1000, minimum: 0) != nil, "never the same size for nothing")
        #expect(Self.refused(before: 1000, after: 0)?.isFailure == true)
    }

    @Test func aVideoWhoseIndexMovedFirstIsKeptUnlessLarger() {
        let moved = Self.lossless(moved: true)
        #expect(Self.refused(moved, before: 1000, after: 999, kind: .video) == nil)
        #expect(Self.refused(moved, before: 1000, after: 1000, kind: .video) == nil)
        #expect(Self.refused(moved, before: 1000, after: 1001, kind: .video) != nil)
        #expect(Self.refused(Self.lossless(), before: 1000, after: 999, kind: .video) != nil, "not moved: the share rules")
        #expect(Self.refused(moved, before: 1000, after: 999, kind: .image) != nil, "images have no index")
    }

    @Test func aLossyCopyBelowTheFloorIsAFailure() {
        let request = OptimizationRequest.reencodeVideo(codec: .h264, crf: 23, minimumBitrate: 0, qualityFloor: 38)
        func reencoded(_ quality: Double?) -> OptimizationResult {
            OptimizationResult(method: "h264-crf23", outputBytes: 0, verification: "psnr", quality: quality)
        }
        #expect(Self.refused(reencoded(40), before: 1000, after: 500, kind: .video, request: request) == nil)
        #expect(Self.refused(reencoded(37.9), before: 1000, after: 500, kind: .video, request: request)?.isFailure == true)
        #expect(Self.refused(reencoded(nil), before: 1000, after: 500, kind: .video, request: request)?.isFailure == true)
        #expect(Self.refused(reencoded(45), before: 1000, after: 990, kind: .video, request: request)?.isFailure == false)
    }
}
