import Foundation
import PFSCore
import PFSPipelines

// Secrets.
extension OperationRunner {
    /// Runs the secret operations of `CLIOperation`; false for any other operation.
    func runSecretOperation(_ operation: CLIOperation) async throws -> Bool {
        switch operation {
        case .createSecret(let request):
            var name = request.name
            let data: [String: Data]
            if let file = request.file {
                let text = file == "-" ? try LocalFile.readStdinText() : try LocalFile.readText(file)
                let parsed = try SecretFile.parse(text, filename: file == "-" ? "stdin" : file)
                guard let n = name ?? parsed.name else {
                    throw PFSError.invalid("\(file == "-" ? "stdin" : file) has no metadata.name; name the secret: pfs create secret NAME -f \(file)")
                }
                name = n
                data = parsed.data
            } else {
                data = try SecretFile.literals(request.literals)
            }
            let info = try await client.createSecret(name: name!, data: data, overwrite: request.overwrite)
            try emitJSONOnly(info)

        case .listSecrets:
            let secrets = try await client.listSecrets()
            try emit(secrets) { Render.secrets($0, now: now()) }

        case .inspectSecret(let name):
            let s = try await client.inspectSecret(name)
            try emit(s) { Render.secret($0, now: now()) }

        case .deleteSecret(let name):
            try await client.deleteSecret(name)

        default:
            return false
        }
        return true
    }
}
