import Foundation

/// Runs `body` on a thread of its own and suspends until it returns.
///
/// Swift's cooperative pool has one thread per core (two on the machines this runs on): a
/// long computation (reading WordNet's files) or a blocking wait (a child process) on it
/// stalls every other task of the process, among them the deadlines and leases of database
/// work. Such work goes here instead.
public func onOwnThread<T: Sendable, Failure: Error>(
    _ body: @escaping @Sendable () throws(Failure) -> T
) async throws(Failure) -> T {
    let result: Result<T, Failure> = await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: Result { () throws(Failure) in try body() }) }.start()
    }
    return try result.get()
}
