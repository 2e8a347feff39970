import Foundation
import PFSCore
import PFSPipelines

extension APIClient {
    public func createSecret(name: String, data: [String: Data], overwrite: Bool) async throws -> SecretInfo {
        try await json(.createSecret(name: name, data: data, overwrite: overwrite))
    }

    public func listSecrets() async throws -> [SecretInfo] { try await json(.listSecrets()) }

    public func inspectSecret(_ name: String) async throws -> SecretInfo { try await json(.inspectSecret(name)) }

    public func deleteSecret(_ name: String) async throws { try await noContent(.deleteSecret(name)) }
}
