public import Foundation

/// Text made safe for HTML: every string that reaches a page goes through `escape`, whether it
/// came from a request, a tag, a file name or a provider's URL.
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A query string value, percent-encoded (then escaped where it sits in an attribute).
    public static func query(_ pairs: [(String, String?)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.compactMap { name, value in
            guard let value, !value.isEmpty else { return nil }
            return name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    /// A link to an outside page, only for http and https (a `javascript:` source URL stays text).
    public static func externalLink(_ url: String?) -> String {
        guard let url else { return "" }
        let lower = url.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else { return escape(url) }
        return "<a href=\"\(escape(url))\" rel=\"noreferrer noopener\">\(escape(url))</a>"
    }

    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    public static func duration(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "" }
        let seconds = Double(milliseconds) / 1000
        return seconds < 60
            ? String(format: "%.1f s", seconds)
            : String(format: "%d:%04.1f", Int(seconds) / 60, seconds.truncatingRemainder(dividingBy: 60))
    }

    public static func date(_ date: Date?) -> String {
        guard let date else { return "never" }
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
    }

    public static func number(_ value: Double) -> String { String(format: "%.3f", value) }
}

/// The frame every page shares: title, navigation, the one stylesheet (inline: no second
/// request), no script.
struct PageFrame {
    static func render(title: String, signedIn: Bool, writesEnabled: Bool, body: String) -> String {
        let account =
            writesEnabled ? (signedIn ? "<span class=\"who\">signed in</span>" : "<a href=\"/login\">sign in to curate</a>") : ""
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(HTML.escape(title)) · media library</title>
            <style>\(style)</style></head>
            <body><header><a class="home" href="/">media library</a> <a href="/stats">stats</a> \(account)</header>
            <main>
            \(body)
            </main></body></html>
            """
    }

    static let style = """
        body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#111;color:#eee}
        header{padding:8px 16px;background:#222;display:flex;gap:16px;align-items:center}
        header .home{font-weight:bold}a{color:#8cf}main{padding:12px 16px}
        form.search{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-bottom:12px}
        form.search label{display:flex;flex-direction:column;font-size:12px;color:#aaa}
        input,select,button{font:inherit;padding:3px 6px}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px}
        .cell{background:#1c1c1c;border-radius:4px;overflow:hidden;font-size:12px}
        .cell img{display:block;width:100%;height:200px;object-fit:cover;background:#333}
        .cell .meta{padding:4px 6px}.cell .parts{color:#aaa}.via{color:#fc6}
        .nothumb{display:flex;align-items:center;justify-content:center;height:200px;background:#333;color:#888}
        table.facts td,table.facts th{text-align:left;padding:2px 10px 2px 0;vertical-align:top}
        .original img,.original video{max-width:100%;max-height:70vh;background:#000}
        .tags span{display:inline-block;background:#333;border-radius:3px;padding:1px 6px;margin:2px}
        .curation form{display:inline-block;margin:4px 8px 4px 0}.error{color:#f88}.pager{margin:16px 0}
        svg text{fill:#ddd;font-size:11px}
        """
}
