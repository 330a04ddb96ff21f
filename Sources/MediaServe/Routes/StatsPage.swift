import Foundation
import Hummingbird
import MediaCore

extension LibraryServer {
    /// `/stats`: what `mediaq stats` says, drawn (inline SVG, no script), with the live pins by
    /// run and the drop folder's recent receipts and rejections.
    func statsPage(_ request: Request) async throws(MediaError) -> Response {
        let (root, budget) = (root, StorageBudget(library.configuration))
        let (stats, weeks, pins) = try await withConnection("cannot read the statistics") { connection in
            let stats = try await LibraryStats.collect(on: connection, root: root, budget: budget, logger: logger)
            let weeks = try await AssetRepository(connection: connection, logger: logger).addedPerWeek(weeks: 12)
            let pins = try await UsageRepository(connection: connection, logger: logger).livePins()
            return (stats, weeks.map { ($0.week, $0.assets) }, pins)
        }
        var body = "<h1>library</h1><p>\(stats.assets) assets: \(stats.images) images, \(stats.videos) videos · \(stats.tagCount) tags"
        body += " · \(stats.thumbnailsMissing) thumbnails missing · \(stats.lost) lost · \(stats.curation.hidden) hidden</p>"
        body += "<h2>bytes by provider and kind</h2>"
        body += Chart.bars(
            stats.byKindAndProvider.map {
                (
                    "\($0.provider) \($0.kind.rawValue)s", Double($0.originalBytes + $0.thumbnailBytes),
                    HTML.bytes($0.originalBytes + $0.thumbnailBytes)
                )
            })
        body += "<h2>budget</h2>"
        body += Chart.budget(used: stats.budget.usedBytes, lowWater: stats.budget.lowWaterBytes, budget: stats.budget.budgetBytes)
        body +=
            "<p>\(HTML.bytes(stats.budget.usedBytes)) of \(HTML.bytes(stats.budget.budgetBytes)) (\(stats.budget.usedPercent) %); GC collects down to \(HTML.bytes(stats.budget.lowWaterBytes))</p>"
        if !stats.optimized.isEmpty {
            let kinds = stats.optimized.map { "\($0.assets) \($0.kind.rawValue)s (\(HTML.bytes($0.bytesSaved)))" }
            body +=
                "<p>optimised originals saved \(HTML.bytes(stats.optimizedBytesSaved)): \(kinds.joined(separator: ", "))</p>"
        }
        body += "<h2>assets added per week</h2>"
        let weekFormat = Date.ISO8601FormatStyle().year().month().day()
        body += Chart.bars(weeks.map { ($0.0.formatted(weekFormat), Double($0.1), String($0.1)) })
        body += "<h2>live pins by run</h2>"
        body += pins.isEmpty ? "<p>none</p>" : "<table class=\"facts\"><tr><th>run</th><th>assets</th><th>bytes</th><th>until</th></tr>"
        for run in pins {
            body +=
                "<tr><td>\(HTML.escape(run.runId))</td><td>\(run.assets.count)</td><td>\(HTML.bytes(run.bytes))</td><td>\(HTML.date(run.expiresUntil))</td></tr>"
        }
        if !pins.isEmpty { body += "</table>" }
        body += dropSection()
        body += doctorSection()
        return html(PageFrame.render(title: "stats", signedIn: signedIn(request), writesEnabled: access.writesEnabled, body: body))
    }

    /// What the last `mediaq doctor` found (`<root>/.doctor.json`).
    func doctorSection() -> String {
        var out = "<h2>doctor</h2>"
        guard let record = DoctorRecord.last(root: root) else {
            return out
                + "<p>no run recorded yet: <code>mediaq doctor</code> (nightly: <code>mediaq-doctor.timer</code>) records its findings here.</p>"
        }
        out +=
            "<p>last run \(HTML.escape(record.finishedAt))\(record.fix ? " with --fix" : ""): \(record.originals) originals, \(record.thumbnails) thumbnails, \(record.verified) verified, \(record.lost) lost; \(record.problems) problem(s), \(record.remaining) remaining</p>"
        guard !record.findings.isEmpty else { return out }
        out += "<table class=\"facts\"><tr><th>kind</th><th>path</th><th>detail</th><th>fixed</th></tr>"
        for finding in record.findings.prefix(20) {
            out +=
                "<tr><td>\(HTML.escape(finding.kind))</td><td>\(HTML.escape(finding.path))</td><td>\(HTML.escape(finding.detail))</td><td>\(finding.fixed ? "yes" : "no")</td></tr>"
        }
        return out + "</table>"
    }

    /// The newest receipts and rejections of the drop folder (docs/drop-contract.md).
    func dropSection() -> String {
        var out = "<h2>recent drops</h2>"
        let receipts = DropFolderReport.recent(in: dropFolder + "/.receipts", suffix: ".json", limit: 20)
        let rejections = DropFolderReport.recent(in: dropFolder + "/.rejected", suffix: ".error.json", limit: 20)
        if receipts.isEmpty && rejections.isEmpty { return out + "<p>no receipts or rejections in \(HTML.escape(dropFolder))</p>" }
        out += "<table class=\"facts\"><tr><th>file</th><th>when</th><th>outcome</th></tr>"
        for entry in receipts {
            let id = entry.fields["id"].flatMap { $0 }.map { "<a href=\"/assets/\(HTML.escape($0))\">#\(HTML.escape($0))</a>" } ?? ""
            out +=
                "<tr><td>\(HTML.escape(entry.name))</td><td>\(HTML.date(entry.modified))</td><td>\(HTML.escape(entry.fields["status"] ?? "?")) \(id)</td></tr>"
        }
        for entry in rejections {
            out +=
                "<tr><td>\(HTML.escape(entry.name))</td><td>\(HTML.date(entry.modified))</td><td class=\"error\">rejected: \(HTML.escape(entry.fields["code"] ?? "?")) · \(HTML.escape(entry.fields["message"] ?? ""))</td></tr>"
        }
        return out + "</table>"
    }
}

/// The drop folder's receipts or rejections, newest first, read as they are written.
enum DropFolderReport {
    struct Entry {
        let name: String
        let modified: Date
        let fields: [String: String]
    }

    static func recent(in folder: String, suffix: String, limit: Int) -> [Entry] {
        let manager = FileManager.default
        guard let walker = manager.enumerator(atPath: folder) else { return [] }
        var found: [(String, Date)] = []
        var seen = 0
        while let name = walker.nextObject() as? String, seen < 10_000 {
            seen += 1
            guard name.hasSuffix(suffix), let attributes = try? manager.attributesOfItem(atPath: folder + "/" + name),
                attributes[.type] as? FileAttributeType == .typeRegular, let date = attributes[.modificationDate] as? Date
            else { continue }
            found.append((name, date))
        }
        return found.sorted { $0.1 > $1.1 }.prefix(limit).map { name, date in
            var fields: [String: String] = [:]
            if let data = manager.contents(atPath: folder + "/" + name), data.count < 65_536,
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                for (key, value) in object { fields[key] = "\(value)" }
            }
            return Entry(name: String(name.dropLast(suffix.count)), modified: date, fields: fields)
        }
    }
}

/// Bar charts as inline SVG: no script, no library, readable without colour.
enum Chart {
    static func bars(_ rows: [(label: String, value: Double, text: String)]) -> String {
        guard !rows.isEmpty else { return "<p>nothing yet</p>" }
        let largest = max(rows.map(\.value).max() ?? 1, 1)
        let height = rows.count * 22 + 4
        var svg = "<svg class=\"chart\" width=\"640\" height=\"\(height)\" role=\"img\">"
        for (index, row) in rows.enumerated() {
            let y = index * 22 + 2
            let width = Int((row.value / largest) * 380)
            svg += "<text x=\"0\" y=\"\(y + 14)\">\(HTML.escape(String(row.label.prefix(28))))</text>"
            svg += "<rect x=\"180\" y=\"\(y)\" width=\"\(max(width, 1))\" height=\"18\" fill=\"#4a8\"></rect>"
            svg += "<text x=\"\(186 + width)\" y=\"\(y + 14)\">\(HTML.escape(row.text))</text>"
        }
        return svg + "</svg>"
    }

    static func budget(used: Int64, lowWater: Int64, budget: Int64) -> String {
        let scale = 600.0 / Double(max(budget, used, 1))
        let usedWidth = Int(Double(used) * scale)
        let mark = Int(Double(lowWater) * scale)
        return
            "<svg class=\"chart\" width=\"640\" height=\"40\" role=\"img\"><rect x=\"0\" y=\"4\" width=\"\(Int(Double(budget) * scale))\" height=\"20\" fill=\"#333\"></rect>"
            + "<rect x=\"0\" y=\"4\" width=\"\(max(usedWidth, 1))\" height=\"20\" fill=\"\(used > budget ? "#c44" : "#4a8")\"></rect>"
            + "<line x1=\"\(mark)\" y1=\"0\" x2=\"\(mark)\" y2=\"28\" stroke=\"#fc6\" stroke-width=\"2\"></line>"
            + "<text x=\"\(mark + 4)\" y=\"38\">low-water mark</text></svg>"
    }
}
