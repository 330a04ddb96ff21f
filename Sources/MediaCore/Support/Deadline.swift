import Synchronization

/// Runs `operation` and returns its result, or throws `timeoutError` once `seconds` have passed,
/// whichever comes first, without waiting for an operation that ignores cancellation (a network
/// peer that never answers must not hold a caller past its deadline). The operation is
/// cancelled when the deadline wins.
///
/// `abandonWhen`, if given, is raced too: when it returns an error first (say, the database
/// connection the operation uses was closed by the server), that error is thrown at once.
///
/// `discardLate`, if given, receives a value the operation returns after the race was lost,
/// which no caller will see: a connection that opened just past its deadline must be closed.
public func withDeadline<Value: Sendable>(
    seconds: Double,
    timeoutError: @escaping @Sendable () -> MediaError,
    abandonWhen: (@Sendable () async -> MediaError?)? = nil,
    discardLate: (@Sendable (Value) -> Void)? = nil,
    _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let race = DeadlineRace<Value>()
    // Whoever finishes first, the other task has nothing left to do.
    defer { race.cancelTasks() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(
                continuation: continuation, seconds: seconds, timeoutError: timeoutError, abandonWhen: abandonWhen,
                discardLate: discardLate, operation: operation)
        }
    } onCancel: {
        race.cancelTasks()
        race.finish(.failure(CancellationError()))
    }
}

/// The shared state of one `withDeadline` call: the continuation, resumed exactly once, and the
/// two tasks racing to resume it.
private final class DeadlineRace<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)
    private let tasks = Mutex<[Task<Void, Never>]>([])

    func start(
        continuation: CheckedContinuation<Value, any Error>, seconds: Double,
        timeoutError: @escaping @Sendable () -> MediaError,
        abandonWhen: (@Sendable () async -> MediaError?)?,
        discardLate: (@Sendable (Value) -> Void)?,
        operation: @escaping @Sendable () async throws -> Value
    ) {
        self.continuation.withLock { $0 = continuation }
        let work = Task {
            do {
                let value = try await operation()
                if !self.finish(.success(value)) { discardLate?(value) }
            } catch {
                self.finish(.failure(error))
            }
        }
        let timer = Task {
            // In steps of at most a second: on Linux a cancelled Task.sleep keeps its timer (and
            // what the task holds) until the time it was asked for (swiftlang/swift#60441). With
            // one sleep of the whole deadline, every drop the daemon finished held about 1.5 KB
            // for its five-minute deadline, and resident memory grew with the drops.
            let end = ContinuousClock.now + .seconds(seconds)
            while !Task.isCancelled, ContinuousClock.now < end {
                try? await Task.sleep(for: min(.seconds(1), end - ContinuousClock.now))
            }
            if !Task.isCancelled {
                // The timeout is reported first: cancelled work may fail with an error of its
                // own, which must not win the race it lost.
                self.finish(.failure(timeoutError()))
                work.cancel()
            }
        }
        var racing = [work, timer]
        if let abandonWhen {
            racing.append(
                Task {
                    if let error = await abandonWhen(), !Task.isCancelled {
                        self.finish(.failure(error))
                        work.cancel()
                    }
                })
        }
        tasks.withLock { $0 = racing }
    }

    /// Resumes the caller with `outcome` unless another outcome did first; returns whether it did.
    @discardableResult
    func finish(_ outcome: Result<Value, any Error>) -> Bool {
        let waiting = continuation.withLock { current -> CheckedContinuation<Value, any Error>? in
            defer { current = nil }
            return current
        }
        waiting?.resume(with: outcome)
        return waiting != nil
    }

    func cancelTasks() {
        tasks.withLock { $0.forEach { $0.cancel() } }
    }
}
