/// State shared while one spec document is translated: where errors point, what the machine looks like (for
/// 1.x `coefficient` parallelism), and which accepted-but-ignored fields were seen.
final class SpecContext {
    let filename: String?
    /// CPUs of this machine; 1.x `parallelism_spec.coefficient` is multiplied by it.
    let cpuCount: Int
    /// Fields that were accepted but have no effect here (`autoscaling`, `pod_patch`, …), with their positions.
    private var ignored: [(path: String, line: Int, column: Int)] = []

    /// Paths of the ignored fields in document order.
    var ignoredFields: [String] {
        ignored.sorted { ($0.line, $0.column) < ($1.line, $1.column) }.map(\.path)
    }

    init(filename: String?, cpuCount: Int) {
        self.filename = filename
        self.cpuCount = max(1, cpuCount)
    }

    func noteIgnored(_ path: String, at field: SpecField) {
        ignored.append((path, field.line, field.column))
    }

    func error(_ path: String, _ node: SpecNode?, _ message: String) -> SpecError {
        SpecError(path: path, message: message, filename: filename, line: node?.line, column: node?.column)
    }

    func error(_ path: String, field: SpecField, _ message: String) -> SpecError {
        SpecError(path: path, message: message, filename: filename, line: field.line, column: field.column)
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    static func index(_ path: String, _ i: Int) -> String {
        "\(path)[\(i)]"
    }
}
