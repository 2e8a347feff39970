import Foundation

// The pipeline, job, datum, log and image calls of the API (docs/api/README.md, "Pipelines" and "Images").
extension APIRequest {
    struct CreatePipelineBody: Encodable {
        var spec: String
        var filename: String?
        var update: Bool?
        var reprocess: Bool?
    }

    public static func createPipeline(spec: String, filename: String?, update: Bool, reprocess: Bool) -> APIRequest {
        APIRequest(.post, "/v1/pipelines",
                   body: json(CreatePipelineBody(spec: spec, filename: filename, update: update ? true : nil,
                                                 reprocess: reprocess ? true : nil)))
    }

    public static func listPipelines() -> APIRequest { APIRequest(.get, "/v1/pipelines") }

    public static func inspectPipeline(_ name: String) -> APIRequest {
        APIRequest(.get, "/v1/pipelines/" + encodeSegment(name))
    }

    public static func deletePipeline(_ name: String, keepRepo: Bool) -> APIRequest {
        APIRequest(.delete, "/v1/pipelines/" + encodeSegment(name), query: keepRepo ? [QueryItem("keep_repo", "true")] : [])
    }

    /// `action` is `start`, `stop` or `run`.
    public static func pipelineAction(_ name: String, _ action: String) -> APIRequest {
        APIRequest(.post, "/v1/pipelines/" + encodeSegment(name) + "/" + action)
    }

    public static func listJobs(pipeline: String?) -> APIRequest {
        APIRequest(.get, "/v1/jobs", query: pipeline.map { [QueryItem("pipeline", $0)] } ?? [])
    }

    public static func inspectJob(id: String, pipeline: String?) -> APIRequest {
        APIRequest(.get, "/v1/jobs/" + encodeSegment(id), query: pipeline.map { [QueryItem("pipeline", $0)] } ?? [])
    }

    public static func listDatums(job: String, pipeline: String) -> APIRequest {
        APIRequest(.get, "/v1/jobs/" + encodeSegment(job) + "/datums", query: [QueryItem("pipeline", pipeline)])
    }

    public static func inspectDatum(job: String, pipeline: String, datum: String) -> APIRequest {
        APIRequest(.get, "/v1/jobs/" + encodeSegment(job) + "/datums/" + encodeSegment(datum), query: [QueryItem("pipeline", pipeline)])
    }

    public static func stopJob(id: String, pipeline: String?) -> APIRequest {
        APIRequest(.post, "/v1/jobs/" + encodeSegment(id) + "/stop", query: pipeline.map { [QueryItem("pipeline", $0)] } ?? [])
    }

    struct RestartDatumsBody: Encodable { var datums: [String] }

    public static func restartDatums(job: String, pipeline: String, datums: [String]) -> APIRequest {
        APIRequest(.post, "/v1/jobs/" + encodeSegment(job) + "/restart", query: [QueryItem("pipeline", pipeline)],
                   body: json(RestartDatumsBody(datums: datums)))
    }

    public static func logs(pipeline: String, job: String?, datum: String?) -> APIRequest {
        var q = [QueryItem("pipeline", pipeline)]
        if let job { q.append(QueryItem("job", job)) }
        if let datum { q.append(QueryItem("datum", datum)) }
        return APIRequest(.get, "/v1/logs", query: q)
    }

    public static func listImages() -> APIRequest { APIRequest(.get, "/v1/images") }

    struct AliasImageBody: Encodable { var name: String; var target: String }

    public static func aliasImage(name: String, target: String) -> APIRequest {
        APIRequest(.post, "/v1/images/aliases", body: json(AliasImageBody(name: name, target: target)))
    }

    struct ImportImageBody: Encodable { var name: String; var path: String }

    public static func importImage(name: String, path: String) -> APIRequest {
        APIRequest(.post, "/v1/images/import", body: json(ImportImageBody(name: name, path: path)))
    }

    public static func inspectImage(_ name: String) -> APIRequest {
        APIRequest(.get, "/v1/images/inspect", query: [QueryItem("name", name)])
    }

    public static func deleteImage(_ name: String) -> APIRequest {
        APIRequest(.delete, "/v1/images", query: [QueryItem("name", name)])
    }

    public static func unaliasImage(_ name: String) -> APIRequest {
        APIRequest(.delete, "/v1/images/aliases", query: [QueryItem("name", name)])
    }
}
