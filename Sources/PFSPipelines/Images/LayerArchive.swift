import Foundation
import PFSCore

/// Checks an uncompressed tar stream (an image layer or a rootfs tarball) before anything of it is written:
/// no member may leave the root (`..` components), be written through a symlink the same layer made, hard-link
/// outside the root, or be a device node; a relative symlink may not climb above the root. Absolute symlinks are
/// kept: they resolve inside the container's root, and extraction and layer composition never follow them.
enum LayerArchive {
    struct Entry { var name: String; var type: UInt8; var link: String }

    /// Reads every header of the tar file at `path` and throws on the first unsafe member.
    static func validate(_ path: String, layer: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw PFSError.notFound("cannot read layer \(layer) (\(path))") }
        defer { try? h.close() }
        var symlinks = Set<String>()
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        func refuse(_ why: String) -> PFSError {
            PFSError.invalid("layer \(layer) is refused: \(why); the image was not imported (rebuild it without that entry)")
        }
        while true {
            guard let block = try h.read(upToCount: 512), block.count == 512 else { break }
            let b = [UInt8](block)
            if b.allSatisfy({ $0 == 0 }) { break }
            let size = try Self.number(b[124..<136], layer: layer)
            let type = b[156]
            let padded = (size + 511) / 512 * 512
            func body() throws -> [UInt8] {
                guard size < 1 << 20, let d = try h.read(upToCount: Int(padded)), d.count == Int(padded) else {
                    throw refuse("a header record is truncated or too large")
                }
                return [UInt8](d.prefix(Int(size)))
            }
            switch type {
            case UInt8(ascii: "L"): longName = Self.cString(try body()[...]); continue
            case UInt8(ascii: "K"): longLink = Self.cString(try body()[...]); continue
            case UInt8(ascii: "x"): pax = Self.paxRecords(try body()); continue
            case UInt8(ascii: "g"): _ = try body(); continue
            default: break
            }
            var name = Self.cString(b[0..<100])
            let magic = Self.cString(b[257..<263])
            if magic.hasPrefix("ustar") {
                let prefix = Self.cString(b[345..<500])
                if !prefix.isEmpty && !magic.hasPrefix("ustar ") { name = prefix + "/" + name }
            }
            var link = Self.cString(b[157..<257])
            if let n = longName { name = n }
            if let l = longLink { link = l }
            if let n = pax["path"] { name = n }
            if let l = pax["linkpath"] { link = l }
            longName = nil; longLink = nil
            let realSize = pax["size"].flatMap { Int64($0) } ?? size
            pax = [:]
            let parts = name.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
            let shown = Names.printable(name)
            if parts.contains("..") { throw refuse("member \"\(shown)\" has a `..` component and would be written outside the root") }
            for i in 0..<max(0, parts.count - 1) where symlinks.contains(parts[0...i].joined(separator: "/")) {
                throw refuse("member \"\(shown)\" would be written through the symlink \"\(parts[0...i].joined(separator: "/"))\"")
            }
            let clean = parts.joined(separator: "/")
            switch type {
            case UInt8(ascii: "2"):
                if !link.hasPrefix("/") {
                    var depth = parts.count - 1
                    for c in link.split(separator: "/") {
                        if c == ".." { depth -= 1 } else if c != "." { depth += 1 }
                        if depth < 0 { throw refuse("symlink \"\(shown)\" -> \"\(Names.printable(link))\" points outside the root") }
                    }
                }
                symlinks.insert(clean)
            case UInt8(ascii: "1"):
                let lp = link.split(separator: "/").map(String.init).filter { $0 != "." && !$0.isEmpty }
                if lp.contains("..") { throw refuse("hard link \"\(shown)\" -> \"\(Names.printable(link))\" points outside the root") }
                for i in 0..<lp.count where symlinks.contains(lp[0...i].joined(separator: "/")) {
                    throw refuse("hard link \"\(shown)\" goes through the symlink \"\(lp[0...i].joined(separator: "/"))\"")
                }
                symlinks.remove(clean)
            case UInt8(ascii: "3"), UInt8(ascii: "4"):
                throw refuse("member \"\(shown)\" is a device node (containers get /dev from the runtime)")
            default:
                symlinks.remove(clean)
            }
            let skip = (type == UInt8(ascii: "1") || type == UInt8(ascii: "2") || type == UInt8(ascii: "5")) ? 0 : (realSize + 511) / 512 * 512
            if skip > 0 { try h.seek(toOffset: try h.offset() + UInt64(skip)) }
        }
    }

    static func cString(_ s: ArraySlice<UInt8>) -> String {
        String(decoding: s.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Octal, or base-256 when the high bit is set (GNU tar's large sizes).
    static func number(_ s: ArraySlice<UInt8>, layer: String) throws -> Int64 {
        if let f = s.first, f & 0x80 != 0 {
            return s.dropFirst().reduce(Int64(f & 0x7F)) { $0 << 8 | Int64($1) }
        }
        let text = cString(s).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let v = Int64(text, radix: 8) else { throw PFSError.invalid("layer \(layer) is not a tar archive (bad header)") }
        return v
    }

    /// `LEN key=value\n` records.
    static func paxRecords(_ data: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let sp = data[i...].firstIndex(of: UInt8(ascii: " ")), let len = Int(String(decoding: data[i..<sp], as: UTF8.self)),
                  len > 0, i + len <= data.count else { break }
            let rec = String(decoding: data[(sp + 1)..<(i + len - 1)], as: UTF8.self)
            if let eq = rec.firstIndex(of: "=") { out[String(rec[..<eq])] = String(rec[rec.index(after: eq)...]) }
            i += len
        }
        return out
    }
}
