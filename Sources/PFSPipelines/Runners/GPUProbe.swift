import Foundation
import PFSCore

/// The GPUs a job gets: the device nodes to pass into each worker and the host's driver files.
public struct GPUAllocation: Sendable, Equatable {
    /// Host device nodes and where the worker sees them (`/dev/nvidia0`, `/dev/nvidiactl`, `/dev/nvidia-uvm`…).
    public var devices: [WorkerInvocation.Mount]
    /// Host paths of the NVIDIA driver's user-space libraries and tools (`libcuda.so.1`, `nvidia-smi`…), for
    /// runners whose root is not the host's (an OCI image) to bind at the same paths.
    public var driverFiles: [String]
    /// The GPU indexes passed (`/dev/nvidia<N>`).
    public var indexes: [Int]
    public init(devices: [WorkerInvocation.Mount], driverFiles: [String], indexes: [Int]) {
        self.devices = devices; self.driverFiles = driverFiles; self.indexes = indexes
    }
}

/// Looks for NVIDIA GPUs on the host when a job that asks for one starts: `/dev/nvidia<N>` device nodes with
/// `/dev/nvidiactl` (and `/dev/nvidia-uvm*`, `/dev/nvidia-modeset`, `/dev/nvidia-caps/*` when present), and
/// the driver's libraries from `nvidia-container-cli list` if installed, else from `ldconfig -p`.
///
/// `deviceDir` is where the nodes are looked for: `/dev`, or `$PFS_GPU_DEVICE_DIR` in the daemon's
/// environment. Tests point it at an empty directory so the no-GPU path is exercised even on a host that has a
/// GPU; nothing here can make a job believe it ran on a GPU that is not there (a node that is not a real
/// device fails the first CUDA call inside the worker).
public struct GPUProbe: Sendable {
    public var deviceDir: String
    /// Where the nodes appear inside the worker.
    public static let workerDeviceDir = "/dev"
    public static let nvidia = "nvidia.com/gpu"

    public init(deviceDir: String? = nil) {
        self.deviceDir = deviceDir ?? ProcessInfo.processInfo.environment["PFS_GPU_DEVICE_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/dev"
    }

    /// The GPUs a spec asks for (`resource_limits.gpu`, else `resource_requests.gpu`); nil if none.
    public static func request(_ spec: PipelineSpec) -> Resources.GPU? {
        for g in [spec.resourceLimits?.gpu, spec.resourceRequests?.gpu] {
            if let g, g.number > 0 { return g }
        }
        return nil
    }

    /// The devices for `gpu`, or an error that names what is missing and what to do.
    public func allocate(_ gpu: Resources.GPU, pipeline: String) throws -> GPUAllocation {
        let ask = "pipeline \"\(pipeline)\" asks for \(gpu.number) \(gpu.type)"
        guard gpu.type == Self.nvidia else {
            throw PFSError.precondition("\(ask); pfs passes only NVIDIA GPUs (type \(Self.nvidia)) to workers; change resource_limits.gpu.type, or run the pipeline on a cluster that schedules \(gpu.type)")
        }
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: deviceDir)) ?? []
        let indexes = names.compactMap { n -> Int? in
            guard n.hasPrefix("nvidia"), let i = Int(n.dropFirst(6)), "nvidia\(i)" == n else { return nil }
            return i
        }.sorted()
        let fix = "run it on a machine with an NVIDIA GPU and its driver loaded, or remove resource_limits.gpu and resource_requests.gpu from the spec"
        guard !indexes.isEmpty else {
            throw PFSError.precondition("\(ask), and this host has none (no \(deviceDir)/nvidia0); \(fix)")
        }
        guard indexes.count >= gpu.number else {
            throw PFSError.precondition("\(ask), and this host has \(indexes.count) (\(indexes.map { "\(deviceDir)/nvidia\($0)" }.joined(separator: ", "))); lower resource_limits.gpu.number to \(indexes.count) or run it on a bigger machine")
        }
        guard names.contains("nvidiactl") else {
            throw PFSError.precondition("\(ask); this host has \(deviceDir)/nvidia\(indexes[0]) but no \(deviceDir)/nvidiactl, so the NVIDIA driver is not fully loaded; load it (`nvidia-smi` creates the nodes) or \(fix)")
        }
        let chosen = Array(indexes.prefix(gpu.number))
        var nodes = chosen.map { "nvidia\($0)" } + ["nvidiactl"]
        nodes += ["nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"].filter(names.contains)
        if names.contains("nvidia-caps") {
            let caps = ((try? fm.contentsOfDirectory(atPath: "\(deviceDir)/nvidia-caps")) ?? []).sorted()
            nodes += caps.map { "nvidia-caps/\($0)" }
        }
        let devices = nodes.map {
            WorkerInvocation.Mount(source: "\(deviceDir)/\($0)", target: "\(Self.workerDeviceDir)/\($0)", readOnly: false)
        }
        return GPUAllocation(devices: devices, driverFiles: Self.driverFiles(), indexes: chosen)
    }

    /// The driver's user-space files on this host.
    static func driverFiles() -> [String] {
        let fm = FileManager.default
        if let cli = ["/usr/bin/nvidia-container-cli", "/usr/local/bin/nvidia-container-cli"].first(where: fm.isExecutableFile),
           let out = run(cli, ["list", "--libraries", "--binaries", "--ipcs"]) {
            let files = out.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("/") }
            if !files.isEmpty { return files }
        }
        var files: [String] = []
        if let ldconfig = ["/sbin/ldconfig", "/usr/sbin/ldconfig"].first(where: fm.isExecutableFile), let out = run(ldconfig, ["-p"]) {
            let prefixes = ["libcuda.", "libnvidia-", "libnvcuvid.", "libnvoptix.", "libEGL_nvidia.", "libGLX_nvidia.",
                            "libGLESv2_nvidia.", "libGLESv1_CM_nvidia."]
            for line in out.split(separator: "\n") {
                let name = line.trimmingCharacters(in: .whitespaces)
                guard prefixes.contains(where: name.hasPrefix), let arrow = line.range(of: "=> ") else { continue }
                files.append(String(line[arrow.upperBound...]).trimmingCharacters(in: .whitespaces))
            }
        }
        for tool in ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server"] {
            for dir in ["/usr/bin", "/usr/local/bin"] where fm.isExecutableFile(atPath: "\(dir)/\(tool)") {
                files.append("\(dir)/\(tool)")
                break
            }
        }
        return Array(Set(files)).sorted()
    }

    private static func run(_ tool: String, _ args: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }
}
