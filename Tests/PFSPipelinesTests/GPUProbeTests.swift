import Foundation
import PFSCore
import XCTest
@testable import PFSPipelines

/// GPU detection over a directory of stand-in device nodes (empty regular files named like NVIDIA's), and the
/// bubblewrap arguments an allocation produces. This checks selection, messages and argument generation only:
/// nothing here runs on a GPU.
final class GPUProbeTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gpu-probe-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func touch(_ names: String...) {
        for n in names {
            let url = dir.appendingPathComponent(n)
            try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        }
    }

    func message(_ gpu: Resources.GPU) -> String {
        do { _ = try GPUProbe(deviceDir: dir.path).allocate(gpu, pipeline: "train"); return "" } catch {
            return (error as? PFSError)?.message ?? "\(error)"
        }
    }

    func testNoGPUNamesTheMissingDevice() {
        touch("null", "nvidiactl-not", "nvidia")  // nothing that is a GPU node
        XCTAssertTrue(message(.init(type: "nvidia.com/gpu", number: 1)).hasPrefix(
            "pipeline \"train\" asks for 1 nvidia.com/gpu, and this host has none (no \(dir.path)/nvidia0); "))
    }

    func testTooFewNoControlNodeAndOtherTypes() {
        touch("nvidia0", "nvidia1")
        XCTAssertTrue(message(.init(type: "nvidia.com/gpu", number: 3)).contains("asks for 3 nvidia.com/gpu, and this host has 2 (\(dir.path)/nvidia0, \(dir.path)/nvidia1)"))
        XCTAssertTrue(message(.init(type: "nvidia.com/gpu", number: 1)).contains("no \(dir.path)/nvidiactl"))
        XCTAssertTrue(message(.init(type: "amd.com/gpu", number: 1)).contains("only NVIDIA GPUs"))
    }

    func testAllocationPassesTheFirstNodesAndControlDevices() throws {
        touch("nvidia10", "nvidia2", "nvidia0", "nvidiactl", "nvidia-uvm", "nvidia-modeset", "nvidia-caps/nvidia-cap1")
        let a = try GPUProbe(deviceDir: dir.path).allocate(.init(type: "nvidia.com/gpu", number: 2), pipeline: "train")
        XCTAssertEqual(a.indexes, [0, 2])
        XCTAssertEqual(a.devices.map(\.target), ["/dev/nvidia0", "/dev/nvidia2", "/dev/nvidiactl", "/dev/nvidia-uvm",
                                                 "/dev/nvidia-modeset", "/dev/nvidia-caps/nvidia-cap1"])
        XCTAssertEqual(a.devices.first?.source, dir.path + "/nvidia0")

        var w = WorkerInvocation(image: nil, cmd: ["true"], stdin: [], env: [:], mounts: [], workingDir: nil, user: nil,
                                 timeout: nil, hidden: [], scratch: "/tmp")
        w.devices = a.devices
        let args = BubblewrapRunner(bwrap: "/usr/bin/bwrap").arguments(w)
        let dev = try XCTUnwrap(args.firstIndex(of: "--dev"))
        let bind = try XCTUnwrap(args.firstIndex(of: "--dev-bind"))
        XCTAssertLessThan(dev, bind, "device nodes go into the sandbox's /dev after it is made")
        XCTAssertEqual(Array(args[bind...(bind + 2)]), ["--dev-bind", dir.path + "/nvidia0", "/dev/nvidia0"])
        XCTAssertTrue(args.joined(separator: " ").contains("--dir /dev/nvidia-caps --dev-bind \(dir.path)/nvidia-caps/nvidia-cap1 /dev/nvidia-caps/nvidia-cap1"))
    }

    func testRequestReadsLimitsThenRequests() {
        var s = PipelineSpec(name: "p", transform: Transform(), input: .pfs(PFSInput(name: "d", repo: "d", glob: "/")))
        XCTAssertNil(GPUProbe.request(s))
        s.resourceRequests = Resources()
        s.resourceRequests?.gpu = .init(type: "nvidia.com/gpu", number: 2)
        XCTAssertEqual(GPUProbe.request(s)?.number, 2)
        s.resourceLimits = Resources()
        s.resourceLimits?.gpu = .init(type: "nvidia.com/gpu", number: 0)
        XCTAssertEqual(GPUProbe.request(s)?.number, 2, "a zero limit does not hide the request")
    }
}
