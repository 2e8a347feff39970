import Foundation
import Hummingbird
import NIOCore
import PFSCore
import PFSPipelines

extension APIServer {
    /// Pipelines, jobs, datums and logs (docs/api/README.md, "Pipelines").
    func addPipelineRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("pipelines") { _, _ in
            let m = try requirePipelines()
            return json(try await blocking { try m.list() })
        }
        api.post("pipelines") { req, ctx in
            struct Body: Decodable { var spec: String; var filename: String?; var update: Bool?; var reprocess: Bool? }
            let m = try requirePipelines()
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking {
                try m.create(specText: b.spec, filename: b.filename, update: b.update ?? false, reprocess: b.reprocess ?? false)
            }, status: .created)
        }
        api.get("pipelines/:name") { _, ctx in
            let m = try requirePipelines(), name = try ctx.parameters.require("name")
            return json(try await blocking { try m.inspect(name) })
        }
        api.delete("pipelines/:name") { req, ctx in
            let m = try requirePipelines(), name = try ctx.parameters.require("name")
            let keep = flag(req, "keep_repo")
            try await blocking { try m.delete(name, keepRepo: keep) }
            return Response(status: .noContent)
        }
        api.post("pipelines/:name/stop") { _, ctx in
            let m = try requirePipelines(), name = try ctx.parameters.require("name")
            return json(try await blocking { try m.stop(name); return try m.inspect(name) })
        }
        api.post("pipelines/:name/start") { _, ctx in
            let m = try requirePipelines(), name = try ctx.parameters.require("name")
            return json(try await blocking { try m.start(name); return try m.inspect(name) })
        }
        api.post("pipelines/:name/run") { _, ctx in
            let m = try requirePipelines(), name = try ctx.parameters.require("name")
            return json(try await blocking { () -> PipelineInfo in
                _ = try m.run(name)
                return try m.inspect(name)
            })
        }
        api.get("jobs") { req, _ in
            let m = try requirePipelines()
            let pipeline = query(req, "pipeline")
            return json(try await blocking { () -> [JobInfo] in
                // An unknown pipeline is an error, not an empty list (a typo would look like "no jobs yet").
                if let pipeline { _ = try m.inspect(pipeline) }
                return try m.jobs(pipeline: pipeline)
            })
        }
        api.get("jobs/:id") { req, ctx in
            let m = try requirePipelines(), id = try ctx.parameters.require("id")
            let pipeline = query(req, "pipeline")
            return json(try await blocking { try m.job(pipeline: pipeline, id: id) })
        }
        api.get("jobs/:id/datums") { req, ctx in
            let m = try requirePipelines(), id = try ctx.parameters.require("id")
            let pipeline = try requireQuery(req, "pipeline")
            return json(try await blocking { () -> [DatumInfo] in
                let job = try m.job(pipeline: pipeline, id: id)[0]
                return try m.datumsIncludingLive(pipeline: pipeline, job: job.id)
            })
        }
        api.get("jobs/:id/datums/:datum") { req, ctx in
            let m = try requirePipelines(), id = try ctx.parameters.require("id"), datum = try ctx.parameters.require("datum")
            let pipeline = try requireQuery(req, "pipeline")
            return json(try await blocking { try m.inspectDatum(pipeline: pipeline, job: id, datum: datum) })
        }
        api.post("jobs/:id/stop") { req, ctx in
            let m = try requirePipelines(), id = try ctx.parameters.require("id")
            let pipeline = query(req, "pipeline")
            return json(try await blocking { try m.stopJob(pipeline: pipeline, id: id) })
        }
        api.post("jobs/:id/restart") { req, ctx in
            struct Body: Decodable { var datums: [String] }
            let m = try requirePipelines(), id = try ctx.parameters.require("id")
            let pipeline = try requireQuery(req, "pipeline")
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking { try m.restartDatums(pipeline: pipeline, job: id, datums: b.datums) })
        }
        api.get("logs") { req, _ in
            let m = try requirePipelines()
            let pipeline = try requireQuery(req, "pipeline")
            let job = query(req, "job"), datum = query(req, "datum")
            let text = try await blocking { () -> String in
                _ = try m.inspect(pipeline)
                if let job { _ = try m.job(pipeline: pipeline, id: job) }
                return try m.logs(pipeline: pipeline, job: job, datum: datum)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// Images the runner can use (docs/api/README.md, "Images").
    func addImageRoutes(_ api: RouterGroup<BasicRequestContext>) {
        api.get("images") { _, _ in
            let m = try requirePipelines()
            return json(try await blocking { try m.listImages() })
        }
        api.post("images/aliases") { req, ctx in
            struct Body: Decodable { var name: String; var target: String }
            let m = try requirePipelines()
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking { try m.aliasImage(b.name, to: b.target) }, status: .created)
        }
        api.post("images/import") { req, ctx in
            struct Body: Decodable { var name: String; var path: String }
            let m = try requirePipelines()
            let b = try await decode(Body.self, req, ctx)
            return json(try await blocking { try m.importImage(b.name, path: b.path) }, status: .created)
        }
        api.get("images/inspect") { req, _ in
            let m = try requirePipelines()
            let name = try requireQuery(req, "name")
            return json(try await blocking { try m.inspectImage(name) })
        }
        api.delete("images") { req, _ in
            let m = try requirePipelines()
            let name = try requireQuery(req, "name")
            try await blocking { try m.deleteImage(name) }
            return Response(status: .noContent)
        }
        api.delete("images/aliases") { req, _ in
            let m = try requirePipelines()
            let name = try requireQuery(req, "name")
            try await blocking { try m.removeImageAlias(name) }
            return Response(status: .noContent)
        }
    }

    func requirePipelines() throws -> PipelineManager {
        guard let p = pipelines else {
            throw PFSError(.unavailable, "this daemon runs without pipelines (no bubblewrap or --no-pipelines); install bubblewrap and restart pfsmount")
        }
        return p
    }
}
