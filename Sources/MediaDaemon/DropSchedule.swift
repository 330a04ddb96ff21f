import HeapModule

/// The drop queue's decisions as a value: which drops wait and until when, which are held by a
/// worker, the library-wide pause after a fault, the counts for STATUS=, and whether each worker
/// is on time. Every change takes the current instant, so the whole policy is tested without a
/// clock, threads or files; `DropQueue` runs it and wakes the workers.
///
/// Due times are kept in a heap ordered by due time, then by the order they were set; an entry
/// whose drop was rescheduled, taken or finished since (its sequence is no longer the drop's)
/// is skipped when it reaches the top.
struct DropSchedule {
    struct Item: Sendable, Equatable {
        let path: String
        var due: ContinuousClock.Instant
        var attempts: Int
        /// Reported only by its creation: taken once it has not changed for a while.
        var whenQuiet = false
    }

    /// What a worker asking for work gets.
    enum Take: Equatable {
        case drop(Item)
        /// Nothing is due: ask again at this instant, or when something changes (nil: nothing
        /// is scheduled at all).
        case wait(until: ContinuousClock.Instant?)
        case closed
    }

    /// How a finished drop counts.
    enum Result {
        case ingested, duplicate, rejected
    }

    private struct Entry: Comparable {
        let due: ContinuousClock.Instant
        let sequence: Int
        let path: String

        static func < (a: Entry, b: Entry) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
        static func == (a: Entry, b: Entry) -> Bool { a.sequence == b.sequence }
    }

    private var waiting: [String: (item: Item, sequence: Int)] = [:]
    private var dues = Heap<Entry>()
    private var sequence = 0
    private var held: Set<String> = []
    private(set) var isClosed = false
    private(set) var totals = DropService.Totals()

    // A library-wide fault.
    private var faultStreak = 0
    private var faultStarted: ContinuousClock.Instant?
    private(set) var pausedUntil: ContinuousClock.Instant?

    // Workers: when each left `take` (and has not said when it will be back), and the deadline
    // of each busy worker's drop. A worker in neither is waiting for work: on time.
    private var leftAt: [Int: ContinuousClock.Instant] = [:]
    private var dueBack: [Int: ContinuousClock.Instant] = [:]

    func isWaiting(_ path: String) -> Bool { waiting[path] != nil }
    func isHeld(_ path: String) -> Bool { held.contains(path) }

    // MARK: - Scheduling

    /// Queues `path` (or brings its due time forward); a held drop is not queued twice.
    mutating func schedule(_ path: String, at due: ContinuousClock.Instant) {
        if held.contains(path) { return }
        if let (known, sequence) = waiting[path] {
            var item = known
            item.whenQuiet = false  // a close or rename says the file is complete
            if due < item.due {
                item.due = due
                put(item)
            } else {
                waiting[path] = (item, sequence)  // its place in the queue stays
            }
        } else {
            put(Item(path: path, due: due, attempts: 0))
        }
    }

    /// Queues a file that only appeared; a close or rename event for it overrides the wait.
    mutating func scheduleWhenQuiet(_ path: String, at due: ContinuousClock.Instant) {
        guard waiting[path] == nil, !held.contains(path) else { return }
        put(Item(path: path, due: due, attempts: 0, whenQuiet: true))
    }

    /// A held drop goes back to wait until `due`.
    mutating func retry(_ item: Item, at due: ContinuousClock.Instant, countsAsAttempt: Bool = true) {
        held.remove(item.path)
        var again = item
        again.due = due
        if countsAsAttempt { again.attempts += 1 }
        put(again)
    }

    /// A held drop is done; `result` says how it counts (nil: not at all).
    mutating func finish(_ path: String, result: Result?) {
        held.remove(path)
        switch result {
        case .ingested: totals.ingested += 1
        case .duplicate: totals.duplicates += 1
        case .rejected: totals.rejected += 1
        case nil: break
        }
        countQueued()
    }

    /// Every waiting drop is due now and any pause ends (a probe will tell whether the fault is over).
    mutating func wake(now: ContinuousClock.Instant) {
        pausedUntil = nil
        for (known, _) in waiting.values.sorted(by: { $0.sequence < $1.sequence }) where known.due > now {
            var item = known
            item.due = now
            put(item)
        }
    }

    mutating func close() { isClosed = true }

    // MARK: - Taking

    /// The drop due first, if one is due and no pause holds; the worker's heartbeat.
    mutating func take(worker: Int, now: ContinuousClock.Instant) -> Take {
        if isClosed { return .closed }
        leftAt[worker] = nil
        dueBack[worker] = nil
        if let pausedUntil, now < pausedUntil { return .wait(until: pausedUntil) }
        while let top = dues.min {
            guard let (item, sequence) = waiting[top.path], sequence == top.sequence else {
                _ = dues.removeMin()  // rescheduled, taken or finished since
                continue
            }
            guard item.due <= now else { return .wait(until: item.due) }
            _ = dues.removeMin()
            waiting[item.path] = nil
            // A dictionary keeps its largest capacity: let a burst's go once it is worked off.
            if waiting.isEmpty { waiting = [:] }
            if dues.isEmpty { dues = Heap() }
            held.insert(item.path)
            leftAt[worker] = now
            countQueued()
            return .drop(item)
        }
        return .wait(until: nil)
    }

    // MARK: - Faults

    /// A library-wide fault: every worker pauses for a growing while (1 s, 2 s, … up to
    /// `maximum`). Returns the pause and whether this fault is new. Other workers failing
    /// within the same pause do not lengthen the next one.
    mutating func beginFault(_ reason: String, maximum: Duration, now: ContinuousClock.Instant) -> (Duration, Bool) {
        if let pausedUntil, now < pausedUntil { return (pausedUntil - now, false) }
        let started = faultStarted == nil
        if started { faultStarted = now }
        let pause = min(maximum, .seconds(1) * (1 << min(faultStreak, 6)))
        faultStreak += 1
        pausedUntil = now + pause
        totals.waitingReason = reason
        return (pause, started)
    }

    /// A drop went through: any fault is over. Returns how long it lasted, if there was one.
    mutating func endFault(now: ContinuousClock.Instant) -> Duration? {
        faultStreak = 0
        pausedUntil = nil
        totals.waitingReason = nil
        guard let started = faultStarted else { return nil }
        faultStarted = nil
        return now - started
    }

    // MARK: - Workers on time

    /// A busy worker's drop must be done by `due`.
    mutating func expectBack(worker: Int, by due: ContinuousClock.Instant) {
        leftAt[worker] = nil
        dueBack[worker] = due
    }

    /// Whether every worker is waiting for work, busy within its drop's deadline (a big file may
    /// take minutes; a hung one is given up at its deadline), or left `take` within `limit`.
    func allWorkersOnTime(workers: Int, limit: Duration, now: ContinuousClock.Instant) -> Bool {
        (0..<workers).allSatisfy { worker in
            if let due = dueBack[worker] { return now <= due }
            if let left = leftAt[worker] { return now - left <= limit }
            return true
        }
    }

    // MARK: -

    private mutating func put(_ item: Item) {
        sequence += 1
        waiting[item.path] = (item, sequence)
        dues.insert(Entry(due: item.due, sequence: sequence, path: item.path))
        countQueued()
    }

    private mutating func countQueued() {
        totals.queued = waiting.count + held.count
    }
}
