import Foundation
import Hummingbird
import NIOCore
import PFSCore
import PFSPipelines

extension APIServer {
    /// Secrets for `transform.secrets` (docs/api/README.md, "Secrets"). Values go in and never come out: every
    /// answer carries names and keys only.
    func addSecretRoutes(_ api: RouterGroup<BasicRequestContext>) {
        let secrets = SecretStore(dataDir: store.dataDir)
        let store = self.store
        api.get("secrets") { _, _ in json(try await blocking { try secrets.list() }) }
        api.post("secrets") { req, ctx in
            struct Body: Decodable { var name: String; var data: [String: String]; var overwrite: Bool? }
            let b = try await decode(Body.self, req, ctx)
            var data: [String: Data] = [:]
            for (k, v) in b.data {
                guard let d = Data(base64Encoded: v) else {
                    throw PFSError.invalid("secret \"\(Names.printable(b.name))\": the value of key \"\(Names.printable(k))\" is not base64; the API takes data as base64 strings")
                }
                data[k] = d
            }
            let values = data
            return json(try await blocking { try secrets.create(name: b.name, data: values, overwrite: b.overwrite ?? false) },
                        status: .created)
        }
        api.get("secrets/:name") { _, ctx in
            let name = try ctx.parameters.require("name")
            return json(try await blocking { try secrets.inspect(name) })
        }
        api.delete("secrets/:name") { _, ctx in
            let name = try ctx.parameters.require("name")
            try await blocking { try PipelineManager.deleteSecret(name, store: store) }
            return Response(status: .noContent)
        }
    }
}
