import Foundation
import NIOCore
import PFSCore
import PFSPipelines

extension APIClient {
    public func createPipelines(spec: String, filename: String?, update: Bool, reprocess: Bool) async throws -> [PipelineInfo] {
        try await json(.createPipeline(spec: spec, filename: filename, update: update, reprocess: reprocess))
    }

    public func listPipelines() async throws -> [PipelineInfo] { try await json(.listPipelines()) }

    public func inspectPipeline(_ name: String) async throws -> PipelineInfo { try await json(.inspectPipeline(name)) }

    public func deletePipeline(_ name: String, keepRepo: Bool) async throws {
        try await noContent(.deletePipeline(name, keepRepo: keepRepo))
    }

    /// `start`, `stop` or `run`; returns the pipeline afterwards.
    public func pipelineAction(_ name: String, _ action: String) async throws -> PipelineInfo {
        try await json(.pipelineAction(name, action))
    }

    /// Newest first.
    public func listJobs(pipeline: String?) async throws -> [JobInfo] { try await json(.listJobs(pipeline: pipeline)) }

    /// The jobs whose id starts with `id` (one per pipeline of the commit set), or only `pipeline`'s.
    public func inspectJob(id: String, pipeline: String?) async throws -> [JobInfo] {
        try await json(.inspectJob(id: id, pipeline: pipeline))
    }

    public func listDatums(job: String, pipeline: String) async throws -> [DatumInfo] {
        try await json(.listDatums(job: job, pipeline: pipeline))
    }

    public func inspectDatum(job: String, pipeline: String, datum: String) async throws -> DatumDetail {
        try await json(.inspectDatum(job: job, pipeline: pipeline, datum: datum))
    }

    /// The jobs stopped (as they are once stopped; a job that had not started is `starting` until its turn).
    public func stopJob(id: String, pipeline: String?) async throws -> [JobInfo] {
        try await json(.stopJob(id: id, pipeline: pipeline))
    }

    public func restartDatums(job: String, pipeline: String, datums: [String]) async throws -> DatumRestartResult {
        try await json(.restartDatums(job: job, pipeline: pipeline, datums: datums))
    }

    public func logs(pipeline: String, job: String?, datum: String?) async throws -> String {
        var text = ByteBuffer()
        try await download(.logs(pipeline: pipeline, job: job, datum: datum)) { buffer in
            var b = buffer
            text.writeBuffer(&b)
        }
        return String(buffer: text)
    }

    public func listImages() async throws -> [ImageInfo] { try await json(.listImages()) }

    public func aliasImage(name: String, target: String) async throws -> ImageInfo {
        try await json(.aliasImage(name: name, target: target))
    }

    public func unaliasImage(_ name: String) async throws { try await noContent(.unaliasImage(name)) }

    public func importImage(name: String, path: String) async throws -> ImportedImage {
        try await json(.importImage(name: name, path: path))
    }

    public func inspectImage(_ name: String) async throws -> ImportedImage { try await json(.inspectImage(name)) }

    public func deleteImage(_ name: String) async throws { try await noContent(.deleteImage(name)) }
}
