import Foundation

// The secret calls of the API (docs/api/README.md, "Secrets").
extension APIRequest {
    struct CreateSecretBody: Encodable {
        var name: String
        /// Key → base64 value.
        var data: [String: String]
        var overwrite: Bool?
    }

    public static func createSecret(name: String, data: [String: Data], overwrite: Bool) -> APIRequest {
        APIRequest(.post, "/v1/secrets", body: json(CreateSecretBody(name: name, data: data.mapValues { $0.base64EncodedString() },
                                                                     overwrite: overwrite ? true : nil)))
    }

    public static func listSecrets() -> APIRequest { APIRequest(.get, "/v1/secrets") }

    public static func inspectSecret(_ name: String) -> APIRequest { APIRequest(.get, "/v1/secrets/" + encodeSegment(name)) }

    public static func deleteSecret(_ name: String) -> APIRequest { APIRequest(.delete, "/v1/secrets/" + encodeSegment(name)) }
}
