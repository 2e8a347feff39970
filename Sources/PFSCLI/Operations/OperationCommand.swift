import ArgumentParser
import Foundation
import PFSCore

/// A command that parses its arguments into a `CLIOperation` and hands it to `OperationRunner`.
///
/// `operation()` is pure (no I/O), so tests check every spelling's translation with `PFSCommand.parseAsRoot`.
public protocol OperationCommand: AsyncParsableCommand {
    var connection: ConnectionOptions { get }
    func outputFormat() throws -> OutputFormat
    func operation() throws -> CLIOperation
}

extension OperationCommand {
    public mutating func run() async throws {
        let operation = try operation()
        let format = try outputFormat()
        let status = try await CommandExecution.execute(operation, connection: connection, format: format)
        if status != .success { throw ExitCode(status.rawValue) }
    }
}

/// Runs an operation with a client that is shut down before returning, whatever happened.
public enum CommandExecution {
    public static func execute(_ operation: CLIOperation, connection: ConnectionOptions, format: OutputFormat) async throws -> PFSExitCode {
        let client = APIClient(location: connection.location(environment: ProcessInfo.processInfo.environment))
        let status: PFSExitCode
        do {
            status = try await OperationRunner(client: client, format: format).run(operation)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        return status
    }
}
