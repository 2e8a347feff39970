import Foundation

/// Syntax check of `input.cron.spec`: `@every <duration>`, the descriptors (`@hourly`, `@daily`, …) and standard
/// 5-field expressions (minute hour day-of-month month day-of-week). Scheduling itself lives in the scheduler;
/// this only makes sure a spec that would never fire is refused at creation with a precise message.
enum CronSchedule {
    static let descriptors: Set<String> = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]

    private struct FieldRule {
        let name: String
        let range: ClosedRange<Int>
        let names: [String: Int]
        let allowsQuestionMark: Bool
    }

    private static let months = ["JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
                                 "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12]
    private static let weekdays = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]

    private static let rules = [
        FieldRule(name: "minute", range: 0...59, names: [:], allowsQuestionMark: false),
        FieldRule(name: "hour", range: 0...23, names: [:], allowsQuestionMark: false),
        FieldRule(name: "day of month", range: 1...31, names: [:], allowsQuestionMark: true),
        FieldRule(name: "month", range: 1...12, names: months, allowsQuestionMark: false),
        FieldRule(name: "day of week", range: 0...6, names: weekdays, allowsQuestionMark: true),
    ]

    /// nil if `spec` is valid, else what is wrong with it.
    static func problem(in spec: String) -> String? {
        let trimmed = spec.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("@") {
            if descriptors.contains(trimmed.lowercased()) { return nil }
            let parts = trimmed.split(separator: " ", omittingEmptySubsequences: true)
            if parts.first?.lowercased() == "@every" {
                guard parts.count == 2 else { return "\"@every\" takes one duration, e.g. \"@every 10s\"" }
                guard let seconds = SpecDuration.seconds(String(parts[1])) else {
                    return "\"\(parts[1])\" is not a duration; \(SpecDuration.syntaxHelp)"
                }
                guard seconds > 0 else { return "the interval of \"@every\" must be positive" }
                return nil
            }
            return "unknown schedule \"\(SpecNode.abbreviate(trimmed))\"; use \"@every <duration>\", one of \(descriptors.sorted().joined(separator: ", ")), or a 5-field cron expression"
        }
        let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            return "\"\(SpecNode.abbreviate(trimmed))\" has \(fields.count) field\(fields.count == 1 ? "" : "s"); a cron expression has 5: minute hour day-of-month month day-of-week (e.g. \"*/10 * * * *\"), or use \"@every 10s\""
        }
        for (field, rule) in zip(fields, rules) {
            if let problem = check(String(field), rule) { return problem }
        }
        return nil
    }

    private static func check(_ field: String, _ rule: FieldRule) -> String? {
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { return "empty list item in the \(rule.name) field \"\(field)\"" }
            var rangePart = Substring(item)
            if let slash = item.firstIndex(of: "/") {
                rangePart = item[..<slash]
                let step = item[item.index(after: slash)...]
                guard let s = Int(step), s >= 1 else {
                    return "step \"\(step)\" in the \(rule.name) field must be a whole number of at least 1"
                }
            }
            if rangePart == "*" { continue }
            if rangePart == "?" {
                guard rule.allowsQuestionMark else { return "'?' is only allowed in the day-of-month and day-of-week fields" }
                continue
            }
            let bounds = rangePart.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2 else { return "\"\(item)\" is not a valid \(rule.name) range" }
            var values: [Int] = []
            for bound in bounds {
                guard let v = value(String(bound), rule) else {
                    return "\"\(bound)\" is not a valid \(rule.name) (\(rule.range.lowerBound)–\(rule.range.upperBound)\(rule.names.isEmpty ? "" : " or a name like \(rule.names.min(by: { $0.value < $1.value })!.key)"))"
                }
                values.append(v)
            }
            if values.count == 2, values[0] > values[1] {
                return "the \(rule.name) range \"\(rangePart)\" goes backwards"
            }
        }
        return nil
    }

    private static func value(_ text: String, _ rule: FieldRule) -> Int? {
        if let v = Int(text) { return rule.range.contains(v) ? v : nil }
        return rule.names[text.uppercased()]
    }
}
