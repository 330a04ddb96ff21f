@testable import MediaDaemon
import MediaTestSupport
import Testing

/// The drop queue's policy without a clock: every instant is given.
@Suite struct DropScheduleTests {
    let start = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    func taken(_ schedule: inout DropSchedule, at now: ContinuousClock.Instant, worker: Int = 0) -> String? {
        if case .drop(let item) = schedule.take(worker: worker, now: now) { return item.path }
        return nil
    }

    @Test func dropsAreTakenInDueOrderAndNotBefore() {
        var schedule = DropSchedule()
        schedule.schedule("b", at: at(2))
        schedule.schedule("a", at: at(1))
        schedule.schedule("c", at: at(3))
        #expect(schedule.take(worker: 0, now: at(0)) == .wait(until: at(1)))
        #expect(taken(&schedule, at: at(2.5)) == "a")
        #expect(taken(&schedule, at: at(2.5)) == "b")
        #expect(schedule.take(worker: 0, now: at(2.5)) == .wait(until: at(3)))
        #expect(taken(&schedule, at: at(3)) == "c")
        #expect(schedule.take(worker: 0, now: at(3)) == .wait(until: nil))
    }

    @Test func aDropReportedAgainIsQueuedOnceAtItsEarliestDue() {
        var schedule = DropSchedule()
        schedule.scheduleWhenQuiet("a", at: at(3))
        schedule.schedule("a", at: at(1))  // closed: no longer waits to be quiet
        schedule.schedule("a", at: at(5))  // a later report does not postpone it
        #expect(schedule.totals.queued == 1)
        guard case .drop(let item) = schedule.take(worker: 0, now: at(1)) else {
            Issue.record("a was not due at 1 s")
            return
        }
        #expect(item.path == "a" && !item.whenQuiet && item.due == at(1))
        schedule.schedule("a", at: at(1))  // held: not queued again
        #expect(schedule.take(worker: 1, now: at(2)) == .wait(until: nil))
        #expect(schedule.totals.queued == 1)
    }

    @Test func aRetryWaitsCountsItsAttemptAndFinishedDropsAreCounted() {
        var schedule = DropSchedule()
        schedule.schedule("a", at: at(0))
        schedule.schedule("b", at: at(0))
        schedule.schedule("c", at: at(0))
        guard case .drop(let a) = schedule.take(worker: 0, now: at(0)) else { return }
        schedule.retry(a, at: at(4))
        #expect(taken(&schedule, at: at(1)) == "b")
        #expect(taken(&schedule, at: at(1)) == "c")
        guard case .drop(let again) = schedule.take(worker: 0, now: at(4)) else {
            Issue.record("the retried drop was not due at 4 s")
            return
        }
        #expect(again.path == "a" && again.attempts == 1)
        schedule.finish("a", result: .ingested)
        schedule.finish("b", result: .duplicate)
        #expect(schedule.totals.queued == 1)
        schedule.finish("c", result: .rejected)
        #expect(schedule.totals == DropService.Totals(queued: 0, ingested: 1, duplicates: 1, rejected: 1))
    }

    @Test func aFaultPausesEveryWorkerForAGrowingWhileUntilADropGoesThrough() {
        var schedule = DropSchedule()
        schedule.schedule("a", at: at(0))
        let first = schedule.beginFault("database down", maximum: .seconds(3), now: at(0))
        #expect(first == (.seconds(1), true))
        #expect(schedule.totals.waitingReason == "database down")
        // Another worker failing within the pause does not lengthen it.
        let same = schedule.beginFault("database down", maximum: .seconds(3), now: at(0.5))
        #expect(same == (.milliseconds(500), false))
        #expect(schedule.take(worker: 0, now: at(0.5)) == .wait(until: at(1)))
        #expect(schedule.beginFault("database down", maximum: .seconds(3), now: at(1)) == (.seconds(2), false))
        #expect(schedule.beginFault("database down", maximum: .seconds(3), now: at(3)) == (.seconds(3), false))
        #expect(schedule.beginFault("database down", maximum: .seconds(3), now: at(6)).0 == .seconds(3), "at most the maximum")
        #expect(taken(&schedule, at: at(9)) == "a")
        #expect(schedule.endFault(now: at(10)) == .seconds(10))
        #expect(schedule.totals.waitingReason == nil)
        #expect(schedule.endFault(now: at(11)) == nil)
        #expect(schedule.beginFault("again", maximum: .seconds(3), now: at(12)) == (.seconds(1), true), "a new fault starts short")
    }

    @Test func wakingMakesEveryDropDueAndEndsThePause() {
        var schedule = DropSchedule()
        schedule.schedule("a", at: at(30))
        _ = schedule.beginFault("over budget", maximum: .seconds(60), now: at(0))
        schedule.wake(now: at(0.1))
        #expect(taken(&schedule, at: at(0.1)) == "a")
    }

    @Test func workersAreOnTimeWhileWaitingOrWithinTheirDropsDeadline() {
        var schedule = DropSchedule()
        schedule.schedule("a", at: at(0))
        #expect(schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(100)), "waiting for work is on time")
        _ = schedule.take(worker: 0, now: at(0))
        #expect(schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(0.5)))
        #expect(!schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(2)), "took a drop and said nothing")
        schedule.expectBack(worker: 0, by: at(60))
        #expect(schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(59)))
        #expect(!schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(61)), "past its drop's deadline")
        schedule.finish("a", result: .ingested)
        _ = schedule.take(worker: 0, now: at(62))
        #expect(schedule.allWorkersOnTime(workers: 2, limit: .seconds(1), now: at(200)))
    }

    @Test func aClosedScheduleHandsOutNothing() {
        var schedule = DropSchedule()
        schedule.schedule("a", at: at(0))
        schedule.close()
        #expect(schedule.take(worker: 0, now: at(1)) == .closed)
    }

    /// Random reports, retries and takes against the plainest model: the waiting drop with
    /// the earliest due time (then the earliest report) is the one taken.
    @Test(arguments: 1...20) func takesAsTheModelDoes(seed: UInt64) {
        var random = SplitMix64(state: seed)
        var schedule = DropSchedule()
        var model: [String: (due: Int, order: Int)] = [:]
        var held: [DropSchedule.Item] = []
        var order = 0
        var now = 0
        for _ in 0..<400 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                let path = "d\(Int.random(in: 0..<25, using: &random))"
                let due = now + Int.random(in: 0..<20, using: &random)
                schedule.schedule(path, at: at(Double(due)))
                guard !held.contains(where: { $0.path == path }) else { break }
                order += 1
                if let known = model[path] {
                    if due < known.due { model[path] = (due, order) }
                } else {
                    model[path] = (due, order)
                }
            case 4 where !held.isEmpty:
                let item = held.remove(at: Int.random(in: 0..<held.count, using: &random))
                let due = now + Int.random(in: 0..<20, using: &random)
                schedule.retry(item, at: at(Double(due)))
                order += 1
                model[item.path] = (due, order)
            case 5 where !held.isEmpty:
                let item = held.removeFirst()
                schedule.finish(item.path, result: .ingested)
            case 6:
                now += Int.random(in: 0..<5, using: &random)
            default:
                let expected = model.filter { $0.value.due <= now }.min { ($0.value.due, $0.value.order) < ($1.value.due, $1.value.order) }
                let answer = schedule.take(worker: 0, now: at(Double(now)))
                if let expected {
                    guard case .drop(let item) = answer else {
                        Issue.record("expected \(expected.key) at \(now), got \(answer)")
                        return
                    }
                    #expect(item.path == expected.key && item.due == at(Double(expected.value.due)))
                    model[expected.key] = nil
                    held.append(item)
                } else {
                    let next = model.values.map(\.due).min().map { at(Double($0)) }
                    #expect(answer == .wait(until: next), "at \(now)")
                }
            }
            #expect(schedule.totals.queued == model.count + held.count)
        }
    }
}
