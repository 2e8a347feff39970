import Foundation
import XCTest

/// Runs the real binaries: a `pfsmount --no-mount` daemon on a private data directory, and `pfs` commands
/// against it. Every daemon a test starts is stopped in tearDown, whatever happened.
final class Harness {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var out: Data
    }

    let dataDir: URL
    let work: URL
    /// Where `startMounted` mounts the filesystem.
    let mnt: URL
    private(set) var daemon: Process?
    private var daemonLog: URL

    static let binDir: URL = {
        if let dir = ProcessInfo.processInfo.environment["PFS_BIN_DIR"] { return URL(fileURLWithPath: dir) }
        // The test bundle lives in the build products directory next to the executables.
        var url = Bundle(for: Harness.self).bundleURL
        while url.path != "/" {
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("pfsmount").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug")
    }()

    /// `under`: the directory to make the test's directory in (default: the temporary directory).
    init(name: String = #function, under: URL? = nil) throws {
        let parent = under ?? URL(fileURLWithPath: NSTemporaryDirectory())
        let base = parent.appendingPathComponent("pfs-e2e-\(getpid())-\(UUID().uuidString.prefix(8))")
        work = base.appendingPathComponent("work")
        dataDir = base.appendingPathComponent("data")
        daemonLog = base.appendingPathComponent("daemon.log")
        mnt = base.appendingPathComponent("mnt")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    /// Starts the daemon with the filesystem mounted at `mnt`.
    func startMounted(settleMs: Int = 200, extra: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        try start(arguments: [mnt.path, "--commit-settle", "\(settleMs)"] + extra, file: file, line: line)
    }

    /// Starts the daemon and waits until it serves (it prints `ready`).
    func start(arguments: [String] = ["--no-mount"], file: StaticString = #filePath, line: UInt = #line) throws {
        let p = Process()
        p.executableURL = Self.binDir.appendingPathComponent("pfsmount")
        p.arguments = arguments + ["--data-dir", dataDir.path, "--announce", "--log-level", "notice"]
        let out = Pipe()
        p.standardOutput = out
        if !FileManager.default.fileExists(atPath: daemonLog.path) {
            _ = FileManager.default.createFile(atPath: daemonLog.path, contents: nil)
        }
        let log = try FileHandle(forWritingTo: daemonLog)
        log.seekToEndOfFile()
        p.standardError = log
        try p.run()
        daemon = p
        let ready = DispatchSemaphore(value: 0)
        let reader = out.fileHandleForReading
        DispatchQueue.global().async {
            let data = reader.availableData
            if String(decoding: data, as: UTF8.self).contains("ready") { ready.signal() }
        }
        if ready.wait(timeout: .now() + 30) == .timedOut {
            p.terminate()
            XCTFail("pfsmount did not become ready in 30 s; its log:\n\(daemonLogText)", file: file, line: line)
            throw XCTSkip("daemon did not start")
        }
    }

    var daemonIsRunning: Bool { daemon?.isRunning ?? false }

    /// The running daemon's process id.
    var daemonPID: Int32? { daemon.map { $0.processIdentifier } }

    var daemonLogText: String { (try? String(contentsOf: daemonLog, encoding: .utf8)) ?? "" }

    /// Stops the daemon with `signal` and waits for it to exit.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let p = daemon else { return 0 }
        daemon = nil
        if p.isRunning { kill(p.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        return p.terminationStatus
    }

    /// Runs `pfs` (or `pachctl` with `binary:`) with `--data-dir` set through the environment.
    @discardableResult
    func run(_ args: [String], binary: String = "pfs", stdin: Data? = nil, env: [String: String] = [:],
             cwd: URL? = nil) throws -> Result {
        let p = Process()
        p.executableURL = Self.binDir.appendingPathComponent(binary)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["PFS_DATA_DIR"] = dataDir.path
        environment.removeValue(forKey: "PFS_SOCKET")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        p.currentDirectoryURL = cwd ?? work
        return try Self.collect(p, stdin: stdin)
    }

    /// Runs `pfs` and fails the test unless it exits 0.
    @discardableResult
    func ok(_ args: [String], binary: String = "pfs", stdin: Data? = nil, file: StaticString = #filePath,
            line: UInt = #line) throws -> Result {
        let r = try run(args, binary: binary, stdin: stdin)
        XCTAssertEqual(r.status, 0, "\(binary) \(args.joined(separator: " ")) failed: \(r.stderr)", file: file, line: line)
        return r
    }

    /// Runs `pfs --raw`/JSON output and decodes it.
    func json(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        let r = try ok(args + ["--raw"], file: file, line: line)
        return try JSONSerialization.jsonObject(with: r.out, options: [.fragmentsAllowed])
    }

    /// Writes a local file under the work directory and returns its path.
    @discardableResult
    func write(_ relative: String, _ content: Data) throws -> String {
        let url = work.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: url)
        return url.path
    }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String { try write(relative, Data(text.utf8)) }

    func cleanup() {
        stop(signal: SIGTERM)
        // Whatever happened, leave no mount behind (a daemon killed with SIGKILL leaves its datum views mounted).
        for path in [mnt.path, dataDir.appendingPathComponent("run/views").path] where Self.isMounted(path) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/fusermount3")
            p.arguments = ["-u", "-z", path]
            try? p.run()
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: work.deletingLastPathComponent())
    }

    private final class Box: @unchecked Sendable { var data = Data() }

    /// Runs `p` to completion, feeding `stdin` and collecting both outputs.
    static func collect(_ p: Process, stdin: Data?) throws -> Result {
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        p.standardOutput = outPipe
        p.standardError = errPipe
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        if let stdin {
            DispatchQueue.global().async {
                inPipe.fileHandleForWriting.write(stdin)
                try? inPipe.fileHandleForWriting.close()
            }
        }
        let out = Box(), err = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { out.data = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { err.data = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        p.waitUntilExit()
        group.wait()
        return Result(status: p.terminationStatus, stdout: String(decoding: out.data, as: UTF8.self),
                      stderr: String(decoding: err.data, as: UTF8.self), out: out.data)
    }

    static func isMounted(_ path: String) -> Bool {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        return mounts.split(separator: "\n").contains { $0.split(separator: " ").dropFirst().first.map(String.init) == path }
    }

    /// Runs a shell script with MNT (the mount point), W (the work directory) and PFS_DATA_DIR set,
    /// and the built binaries first on PATH.
    @discardableResult
    func sh(_ script: String, file: StaticString = #filePath, line: UInt = #line, check: Bool = true) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "set -e\n" + script]
        var env = ProcessInfo.processInfo.environment
        env["MNT"] = mnt.path
        env["W"] = work.path
        env["PFS_DATA_DIR"] = dataDir.path
        env["PATH"] = Self.binDir.path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        p.currentDirectoryURL = work
        let r = try Self.collect(p, stdin: nil)
        if check {
            XCTAssertEqual(r.status, 0, "script failed:\n\(script)\nstdout: \(r.stdout)\nstderr: \(r.stderr)", file: file, line: line)
        }
        return r
    }

    static func randomData(_ n: Int, seed: UInt64) -> Data {
        var state = seed &+ 0x9E3779B97F4A7C15
        var out = Data(count: n)
        out.withUnsafeMutableBytes { (p: UnsafeMutableRawBufferPointer) in
            var i = 0
            while i < n {
                state &+= 0x9E3779B97F4A7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
                z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
                z ^= z >> 31
                withUnsafeBytes(of: z) { w in
                    for j in 0..<min(8, n - i) { p[i + j] = w[j] }
                }
                i += 8
            }
        }
        return out
    }
}
