import Foundation
import XCTest

/// `mount -t fuse.pfs` through mount-helpers/mount.pfs, as an fstab line would use it.
final class MountHelperTests: XCTestCase {
    func testMountTypeFusePfsWithDataDirOption() throws {
        guard getuid() == 0, FileManager.default.isReadableFile(atPath: "/dev/fuse") else {
            throw XCTSkip("needs root and /dev/fuse to install a mount helper")
        }
        let h = try Harness()
        defer { h.cleanup() }
        let helper = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("mount-helpers/mount.pfs").path
        try h.sh("""
            mkdir -p $W/sbin
            cp \(helper) $W/sbin/mount.fuse.pfs
            mkdir -p $MNT
            # mount(8) looks for helpers in /sbin; call the helper the way mount(8) does.
            PFSMOUNT=$(command -v pfsmount) $W/sbin/mount.fuse.pfs pfs $MNT -o data_dir=$PFS_DATA_DIR,commit_settle=100,rw
            grep -q " $MNT fuse.pfs " /proc/mounts
            mkdir $MNT/data && echo hi > $MNT/data/master/x && sync $MNT/data/master
            test "$(pfs get file data@master:/x)" = hi
            umount $MNT
            for i in $(seq 1 50); do pgrep -f "pfsmount $MNT" >/dev/null || break; sleep 0.1; done
            ! grep -q " $MNT fuse.pfs " /proc/mounts
            """)
    }
}
