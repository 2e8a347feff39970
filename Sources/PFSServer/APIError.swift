import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PFSCore

/// Turns any error into the API's JSON error body with a status that matches its code.
struct APIError: HTTPResponseError {
    let code: PFSError.Code
    let message: String

    init(_ error: any Error) {
        if let e = error as? PFSError {
            code = e.code
            message = e.message
        } else if let e = error as? APIError {
            self = e
        } else if let e = error as? DecodingError {
            code = .invalidArgument
            message = "the request body is not valid JSON for this operation: \(Self.describe(e))"
        } else {
            code = .internal
            message = "\(error)"
        }
    }

    var status: HTTPResponse.Status {
        switch code {
        case .invalidArgument: return .badRequest
        case .notFound: return .notFound
        case .alreadyExists, .failedPrecondition, .ambiguous, .readOnly, .notEmpty, .isDirectory, .notDirectory:
            return .conflict
        case .noSpace: return .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .timeout: return .gatewayTimeout
        case .unavailable: return .serviceUnavailable
        default: return .internalServerError
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = (try? PFSJSON.encoder().encode(APIErrorBody(code: code.rawValue, message: message))) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func describe(_ e: DecodingError) -> String {
        switch e {
        case .keyNotFound(let k, _): return "missing field \"\(k.stringValue)\""
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            let path = c.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? c.debugDescription : "field \"\(path)\": \(c.debugDescription)"
        @unknown default: return "\(e)"
        }
    }
}
