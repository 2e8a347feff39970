import Foundation
import PFSCore
import XCTest
@testable import PFSPipelines

/// Kubernetes Secret files and literals (docs/secrets.md), and the store's files; no error shows a value.
final class SecretFileTests: XCTestCase {
    func message(_ text: String) -> String {
        do { _ = try SecretFile.parse(text, filename: "s.yaml"); return "" } catch { return (error as? PFSError)?.message ?? "\(error)" }
    }

    func testJSONAndYAMLManifests() throws {
        let json = try SecretFile.parse(#"{"kind": "Secret", "metadata": {"name": "db"}, "data": {"password": "czNjcjN0"}, "stringData": {"user": "0123"}}"#, filename: "s.json")
        XCTAssertEqual(json, SecretFile(name: "db", data: ["password": Data("s3cr3t".utf8), "user": Data("0123".utf8)]))
        let yaml = try SecretFile.parse("""
            apiVersion: v1
            kind: Secret
            type: Opaque
            metadata:
              name: db
            data:
              password: czNjcjN0
            stringData:
              password: override
              port: 5432
            """, filename: "s.yaml")
        XCTAssertEqual(yaml.data["password"], Data("override".utf8), "stringData wins, as in Kubernetes")
        XCTAssertEqual(yaml.data["port"], Data("5432".utf8), "a plain scalar is kept as written")
    }

    func testErrorsNameFieldsNotValues() {
        XCTAssertTrue(message(#"{"kind": "ConfigMap", "data": {"a": "b"}}"#).contains("kind is \"ConfigMap\""))
        XCTAssertTrue(message(#"{"kind": "Secret", "metadata": {"name": "x"}}"#).contains("has no keys"))
        XCTAssertTrue(message(#"{"kind": "Secret", "dataa": {"a": "b"}}"#).contains("unknown field \"dataa\""))
        let b64 = message(#"{"kind": "Secret", "data": {"k": "hunter2!!"}}"#)
        XCTAssertTrue(b64.contains("data.k is not valid base64"), b64)
        XCTAssertFalse(b64.contains("hunter2"))
        let broken = message("stringData:\n  password: \"hunter2\n  : [")
        XCTAssertTrue(broken.contains("not valid JSON or YAML"), broken)
        XCTAssertFalse(broken.contains("hunter2"), broken)
        XCTAssertTrue(message(#"{"kind": "Secret", "stringData": {"a/b": "x"}}"#).contains("invalid key \"a/b\""))
    }

    func testLiterals() throws {
        XCTAssertEqual(try SecretFile.literals(["a=b=c", "e="]), ["a": Data("b=c".utf8), "e": Data()])
        XCTAssertThrowsError(try SecretFile.literals(["=hunter2"])) { e in
            XCTAssertFalse((e as! PFSError).message.contains("hunter2"))
        }
    }

    func testStoreModesAndNoValuesInInfo() throws {
        let data = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("secrets-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let store = SecretStore(dataDir: data)
        let info = try store.create(name: "db", data: ["password": Data("hunter2".utf8)], overwrite: false)
        XCTAssertEqual(info.keys, ["password"])
        XCTAssertThrowsError(try store.create(name: "db", data: ["password": Data("x".utf8)], overwrite: false))
        let mode = { (p: String) in (try FileManager.default.attributesOfItem(atPath: p)[.posixPermissions] as? NSNumber)?.intValue }
        XCTAssertEqual(try mode(store.directory.path), 0o700)
        XCTAssertEqual(try mode(store.directory.appendingPathComponent("db.json").path), 0o600)
        XCTAssertEqual(try store.value("db", key: "password"), "hunter2")
        let encoded = String(decoding: try PFSJSON.encoder().encode(try store.list()), as: UTF8.self)
        XCTAssertFalse(encoded.contains("hunter2") || encoded.contains(Data("hunter2".utf8).base64EncodedString()))
        try store.delete("db")
        XCTAssertFalse(store.exists("db"))
    }
}
