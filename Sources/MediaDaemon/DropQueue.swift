/// Runs the `DropSchedule` for the workers. A worker with nothing due waits on a continuation
/// and is woken when a drop is scheduled or retried, a pause ends, the queue closes, or the next
/// due time comes: one alarm task sleeps until the earliest instant a waiting worker needs, and
/// is replaced only when an earlier one is needed (a cancelled sleep keeps its timer until its
/// deadline on Linux, swiftlang/swift#60441, so alarms are not cancelled per drop).
actor DropQueue {
    typealias Item = DropSchedule.Item

    private var schedule = DropSchedule()
    private var sleepers: [CheckedContinuation<Void, Never>] = []
    private var alarm: (deadline: ContinuousClock.Instant, task: Task<Void, Never>)?
    /// The counts after every change, in the order they happened (for STATUS=).
    nonisolated let updates: AsyncStream<DropService.Totals>
    private let updatesContinuation: AsyncStream<DropService.Totals>.Continuation
    private var lastPublished: DropService.Totals?

    init() {
        (updates, updatesContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(64))
    }

    var totals: DropService.Totals { schedule.totals }

    func isWaiting(_ path: String) -> Bool { schedule.isWaiting(path) }
    func isHeld(_ path: String) -> Bool { schedule.isHeld(path) }

    func schedule(_ path: String, at due: ContinuousClock.Instant) {
        schedule.schedule(path, at: due)
        wakeWorkers()
    }

    func scheduleWhenQuiet(_ path: String, at due: ContinuousClock.Instant) {
        schedule.scheduleWhenQuiet(path, at: due)
        wakeWorkers()
    }

    func retry(_ item: Item, at due: ContinuousClock.Instant, countsAsAttempt: Bool = true) {
        schedule.retry(item, at: due, countsAsAttempt: countsAsAttempt)
        wakeWorkers()
    }

    func finish(_ path: String, outcome: DropProcessor.Outcome?) {
        switch outcome {
        case .stored(let receipt): schedule.finish(path, result: receipt.status == "duplicate" ? .duplicate : .ingested)
        case .rejected: schedule.finish(path, result: .rejected)
        case nil: schedule.finish(path, result: nil)
        }
        publish()
    }

    func beginFault(_ reason: String, maximum: Duration) -> (Duration, Bool) {
        defer { publish() }
        return schedule.beginFault(reason, maximum: maximum, now: .now)
    }

    func endFault() -> Duration? {
        let lasted = schedule.endFault(now: .now)
        if lasted != nil { wakeWorkers() }
        publish()
        return lasted
    }

    /// Every waiting drop is due now and any pause ends.
    func wake() {
        schedule.wake(now: .now)
        wakeWorkers()
    }

    func close() {
        schedule.close()
        alarm?.task.cancel()
        alarm = nil
        wakeWorkers()
    }

    func expectBack(worker: Int, by due: ContinuousClock.Instant) {
        schedule.expectBack(worker: worker, by: due)
    }

    func allWorkersOnTime(workers: Int, idleLimit: Duration) -> Bool {
        schedule.allWorkersOnTime(workers: workers, limit: idleLimit, now: .now)
    }

    /// The next due drop, waiting for one; nil once closed.
    func take(worker: Int) async -> Item? {
        while true {
            switch schedule.take(worker: worker, now: .now) {
            case .closed:
                return nil
            case .drop(let item):
                return item
            case .wait(let until):
                if let until { setAlarm(at: until) }
                await withCheckedContinuation { sleepers.append($0) }
            }
        }
    }

    /// Publishes the counts when they changed; called after every change, inside the actor, so
    /// two workers' updates cannot arrive out of order.
    private func publish() {
        let totals = schedule.totals
        guard totals != lastPublished else { return }
        lastPublished = totals
        updatesContinuation.yield(totals)
    }

    func endUpdates() { updatesContinuation.finish() }

    private func wakeWorkers() {
        publish()
        let waking = sleepers
        sleepers = []
        for sleeper in waking { sleeper.resume() }
    }

    private func setAlarm(at deadline: ContinuousClock.Instant) {
        if let alarm, alarm.deadline <= deadline { return }
        alarm?.task.cancel()
        let task = Task { [weak self] in
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            await self?.alarmRang(deadline)
        }
        alarm = (deadline, task)
    }

    private func alarmRang(_ deadline: ContinuousClock.Instant) {
        guard alarm?.deadline == deadline else { return }
        alarm = nil
        wakeWorkers()
    }
}
