import Foundation
import PFSCore
#if canImport(Glibc)
import Glibc
#endif

/// The system tools image import uses (GNU tar and the decompressors), run without a shell.
enum Tool {
    /// Runs `args` (the first is looked up on PATH); throws with its stderr when it fails.
    @discardableResult
    static func run(_ args: [String], what: String, stdout: FileHandle? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let err = Pipe(), out = Pipe()
        p.standardError = err
        p.standardOutput = stdout ?? out
        p.standardInput = FileHandle.nullDevice
        do { try p.run() } catch {
            throw PFSError.precondition("\(what): cannot run \(args[0]) (\(error)); install it (scripts/install-deps.sh)")
        }
        var output = Data()
        if stdout == nil {
            // Read stdout while the tool runs, stderr after (small).
            output = out.fileHandleForReading.readDataToEndOfFile()
        }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let msg = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PFSError.invalid("\(what) failed: \(args[0]) said: \(msg.isEmpty ? "exit code \(p.terminationStatus)" : String(msg.prefix(600)))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `path` itself when it is not compressed, else its decompressed copy at `dst` (gzip, zstd, xz, bzip2).
    static func decompressed(_ path: String, into dst: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { throw PFSError.notFound("cannot read \(path)") }
        let magic = [UInt8]((try? h.read(upToCount: 6)) ?? Data())
        try? h.close()
        let tool: String
        if magic.starts(with: [0x1F, 0x8B]) { tool = "gzip" }
        else if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { tool = "zstd" }
        else if magic.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A]) { tool = "xz" }
        else if magic.starts(with: [0x42, 0x5A, 0x68]) { tool = "bzip2" }
        else { return path }
        _ = FileManager.default.createFile(atPath: dst, contents: nil)
        guard let out = FileHandle(forWritingAtPath: dst) else { throw PFSError.syscall("open", path: dst, errno: errno) }
        defer { try? out.close() }
        try run([tool, "-dc", path], what: "decompressing \(URL(fileURLWithPath: path).lastPathComponent)", stdout: out)
        return dst
    }
}

extension Tool {
    /// Secrets' env values for `podman`/`docker run --env-file` (read only by the daemon's user, never on a command
    /// line where `ps` shows them): one `VAR=value` per line, so a value holding a line break is refused.
    static func writeEnvFile(_ env: [String: String], to path: String, engine: String) throws {
        if let bad = env.first(where: { $0.value.contains("\n") || $0.value.contains("\r") }) {
            throw PFSError.invalid("secret value for \(bad.key) holds a line break, which \(engine)'s --env-file cannot carry; mount the secret as a file (transform.secrets[].mount_path) instead")
        }
        try writePrivate(Data(env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined().utf8), to: path)
    }

    /// `data` in a new file only the daemon's user can read (0600): argument files, secrets' env files.
    static func writePrivate(_ data: Data, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PFSError.syscall("open", path: path, errno: errno) }
        defer { close(fd) }
        let n = data.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        guard n == data.count else { throw PFSError.syscall("write", path: path, errno: errno) }
    }
}
