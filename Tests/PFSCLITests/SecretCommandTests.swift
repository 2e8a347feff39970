import Foundation
import PFSCore
import PFSPipelines
import XCTest
@testable import PFSCLI

/// `create/list/inspect/delete secret`: parsing, the API calls, and tables that show keys, never values.
final class SecretCommandTests: XCTestCase {
    func op(_ args: String...) throws -> CLIOperation {
        let command = try PFSCommand.parseAsRoot(args)
        guard let c = command as? any OperationCommand else {
            throw PFSError.invalid("\(args) did not parse to an operation command but \(type(of: command))")
        }
        return try c.operation()
    }

    func rejects(_ args: String..., file: StaticString = #filePath, line: UInt = #line) {
        do {
            let command = try PFSCommand.parseAsRoot(args)
            guard let c = command as? any OperationCommand else { return XCTFail("\(args) is not an operation", file: file, line: line) }
            _ = try c.operation()
            XCTFail("\(args) was accepted", file: file, line: line)
        } catch {
            XCTAssertNotEqual(PFSCommand.exitCode(for: error), .success, "\(error)", file: file, line: line)
        }
    }

    func testParsing() throws {
        XCTAssertEqual(try op("create", "secret", "-f", "s.json"),
                       .createSecret(CreateSecretRequest(name: nil, file: "s.json", literals: [], overwrite: false)))
        XCTAssertEqual(try op("create", "secret", "db", "--from-literal", "user=app", "--from-literal", "password=x=y", "--overwrite"),
                       .createSecret(CreateSecretRequest(name: "db", file: nil, literals: ["user=app", "password=x=y"], overwrite: true)))
        XCTAssertEqual(try op("list", "secret"), .listSecrets)
        XCTAssertEqual(try op("inspect", "secret", "db"), .inspectSecret("db"))
        XCTAssertEqual(try op("delete", "secret", "db"), .deleteSecret("db"))
        rejects("create", "secret", "db")
        rejects("create", "secret", "db", "-f", "s.json", "--from-literal", "a=b")
        rejects("create", "secret", "--from-literal", "a=b")
        rejects("create", "secret", "bad/name", "--from-literal", "a=b")
        let request = CreateSecretRequest(name: "db", file: nil, literals: ["password=hunter2"], overwrite: false)
        XCTAssertFalse(request.description.contains("hunter2"))
    }

    func testRequestsAndTables() {
        let create = APIRequest.createSecret(name: "db", data: ["k": Data("v".utf8)], overwrite: false)
        XCTAssertEqual(create.description, "POST /v1/secrets")
        XCTAssertEqual(create.body.map { String(decoding: $0, as: UTF8.self) }, #"{"data":{"k":"dg=="},"name":"db"}"#)
        XCTAssertEqual(APIRequest.inspectSecret("db").description, "GET /v1/secrets/db")
        XCTAssertEqual(APIRequest.deleteSecret("db").description, "DELETE /v1/secrets/db")
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let info = SecretInfo(name: "db", keys: ["password", "user"], created: t, updated: t)
        XCTAssertEqual(Render.secrets([info], now: t.addingTimeInterval(7200)), """
            NAME   KEYS             CREATED       UPDATED
            db     password, user   2 hours ago   2 hours ago

            """)
        XCTAssertTrue(Render.secret(info, now: t).contains("Keys: password, user\n"))
    }
}
