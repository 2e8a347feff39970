import PFSPipelines
import XCTest

final class InputModelTests: XCTestCase {
    func testPFSInputsAreCollectedDepthFirst() {
        let a = PFSInput(name: "a", repo: "a", glob: "/*")
        let b = PFSInput(name: "b", repo: "b", glob: "/")
        let c = PFSInput(name: "c", repo: "c", glob: "/*/*")
        let input = Input.cross([.pfs(a), .union([.pfs(b), .pfs(c)]), .cron(CronInput(name: "tick", spec: "@every 1m"))])
        XCTAssertEqual(input.pfsInputs.map(\.name), ["a", "b", "c"])
    }
}
