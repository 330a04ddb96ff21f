import Foundation
@testable import MediaCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `withDeadline`: the first of the work and the deadline wins, and a value the work returns
/// after losing (a connection that opened too late) is handed to `discardLate`, never dropped.
@Suite struct DeadlineTests {
    @Test func aValueInTimeIsReturnedAndNotDiscarded() async throws {
        let discarded = Mutex<[Int]>([])
        let value = try await withDeadline(
            seconds: 10, timeoutError: { MediaError(.databaseTimeout, "late") },
            discardLate: { value in discarded.withLock { $0.append(value) } }
        ) { 7 }
        #expect(value == 7)
        try await Task.sleep(for: .milliseconds(100))
        #expect(discarded.withLock { $0 }.isEmpty)
    }

    @Test func aValueAfterTheDeadlineIsHandedToDiscardLate() async throws {
        let discarded = Mutex<[Int]>([])
        // The work ignores cancellation, as a connect in progress does, and finishes only once
        // the deadline has been reported: the order is fixed, whatever the machine's load.
        let release = DispatchSemaphore(value: 0)
        await #expect(throws: MediaError.self) {
            try await withDeadline(
                seconds: 0.05, timeoutError: { MediaError(.databaseTimeout, "late") },
                discardLate: { value in discarded.withLock { $0.append(value) } }
            ) {
                await onOwnThread { () -> Int in
                    release.wait()
                    return 8
                }
            }
        }
        release.signal()
        var waited = 0
        while discarded.withLock({ $0 }).isEmpty, waited < 100 {
            waited += 1
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(discarded.withLock { $0 } == [8])
    }
}
